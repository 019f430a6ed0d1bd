using System.Net;
using System.Runtime.InteropServices;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Server;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers serve`: the text-classification HTTP server (Hugging Face Inference API shape, dynamic
/// batching) in the foreground. Prints the URL once listening; Ctrl+C or SIGTERM stops it gracefully,
/// finishing the requests in flight (a second Ctrl+C ends the process at once).
/// </summary>
public sealed class ServeCommand : ICliCommand
{
    private readonly CancellationToken stopRequested;

    public ServeCommand()
        : this(CancellationToken.None)
    {
    }

    /// <summary>A command that also stops when <paramref name="stopRequested"/> is cancelled (for in-process tests; then no signal handlers are installed).</summary>
    public ServeCommand(CancellationToken stopRequested)
    {
        this.stopRequested = stopRequested;
    }

    public string Name => "serve";

    public string Summary => "Serve a text-classification model over HTTP (POST /predict, Hugging Face Inference API shape).";

    public string Usage => "[--model DIR] [--host 127.0.0.1] [--port 8080] [--max-batch-size 32] [--max-wait-ms 5] [--max-queue N] [--threads N] [--quantize none|int8]";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "DIR", "model folder (config.json, model.safetensors, tokenizer files; default: the bundled English sentiment model)"),
        new("host", "ADDR", "address to bind: an IP address or localhost (default 127.0.0.1, this machine only; 0.0.0.0 exposes it to the network)"),
        new("port", "N", "TCP port (default 8080; 0 picks a free one)"),
        new("max-batch-size", "N", "most inputs per forward pass; concurrent requests are batched together (default 32)"),
        new("max-wait-ms", "MS", "how long a batch that is not full waits for more inputs (default 5)"),
        new("max-queue", "N", "most requests waiting for the model before answering 503 (default 512)"),
        new("max-inputs", "N", "most inputs in one request, a longer list is a 413 (default 256)"),
        new("max-body-bytes", "N", "largest request body, a larger one is a 413 (default 2000000)"),
        new("threads", "N", "threads the model's kernels use (default: all cores, or SHARPFORMERS_NUM_THREADS)"),
        ClassifyCommand.QuantizeOption,
        new("quiet", null, "no request log lines"),
        new("verbose", null, "also show ASP.NET Core's own log messages"),
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        string model = args.Get("model") ?? ClassifyCommand.ModelWhenNoneGiven();
        // The request log is written from a background task while this thread writes its own lines.
        var error = TextWriter.Synchronized(context.Error);
        string host = args.Get("host") ?? "127.0.0.1";
        if (!host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(host, out _))
        {
            throw new CliUsageException($"option '--host' expects an IP address (such as 127.0.0.1) or localhost, got '{host}'");
        }
        int port = args.GetInt("port", min: 0) ?? 8080;
        if (port > 65535) throw new CliUsageException($"option '--port' must be at most 65535, got {port}");
        double waitMs = args.GetDouble("max-wait-ms") ?? 5;
        if (waitMs is < 0 or > 10_000) throw new CliUsageException($"option '--max-wait-ms' must be between 0 and 10000, got {waitMs}");
        var options = new ServerOptions
        {
            Host = host,
            Port = port,
            MaxBatchSize = args.GetInt("max-batch-size", min: 1) ?? 32,
            MaxWait = TimeSpan.FromMilliseconds(waitMs),
            MaxQueue = args.GetInt("max-queue", min: 1) ?? 512,
            MaxInputsPerRequest = args.GetInt("max-inputs", min: 1) ?? 256,
            MaxBodyBytes = args.GetInt("max-body-bytes", min: 64) ?? 2_000_000,
            LogRequests = !args.Flag("quiet"),
            Verbose = args.Flag("verbose"),
            Log = error,
            Precision = ClassifyCommand.Precision(args),
        };
        if (args.GetInt("threads", min: 1) is int threads) KernelParallel.MaxThreads = threads;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopRequested);
        var signals = new List<PosixSignalRegistration>();
        if (!stopRequested.CanBeCanceled)
        {
            // The first Ctrl+C or SIGTERM drains gracefully; a second one falls through to the default and ends the process.
            void OnSignal(PosixSignalContext signal)
            {
                signal.Cancel = !stop.IsCancellationRequested;
                stop.Cancel();
            }
            signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
            signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        }
        try
        {
            var server = InferenceServer.StartAsync(model, options, stop.Token).GetAwaiter().GetResult();
            var described = server.Model;
            error.WriteLine($"serving {described.ModelId} ({described.ModelType}, {described.Id2Label.Count} labels, inputs up to " +
                $"{described.MaxInputLength} tokens); batches of up to {options.MaxBatchSize}, {waitMs:0.###} ms wait, queue {options.MaxQueue}; " +
                "Ctrl+C stops");
            if (!IsLoopback(host))
            {
                error.WriteLine($"warning: listening on {host} makes the server reachable from other machines; it has no authentication");
            }
            context.Out.WriteLine($"Listening on {server.Address.GetLeftPart(UriPartial.Authority)}");
            context.Out.Flush();
            stop.Token.WaitHandle.WaitOne();
            error.WriteLine("shutting down: finishing the requests in flight");
            server.StopAsync().GetAwaiter().GetResult();
            error.WriteLine("stopped");
            return CliApp.Success;
        }
        finally
        {
            foreach (var signal in signals) signal.Dispose();
        }
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
