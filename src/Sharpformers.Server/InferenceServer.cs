using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sharpformers.Models;
using Sharpformers.Pipelines;

namespace Sharpformers.Server;

/// <summary>
/// A text-classification HTTP server on Kestrel speaking the Hugging Face Inference API's shape:
/// <c>POST /predict</c> (alias <c>POST /</c>), <c>GET /health</c>, <c>GET /info</c>, <c>GET /metrics</c>.
/// Concurrent requests are batched dynamically; errors are JSON <c>{"error", "error_type"}</c>.
/// <code>
/// await using var server = await InferenceServer.StartAsync("path/to/model", new ServerOptions { Port = 8080 });
/// Console.WriteLine($"Listening on {server.Address}");
/// await server.StopAsync();   // graceful: requests in flight finish first
/// </code>
/// </summary>
public sealed partial class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly IInferenceBackend backend;
    private readonly bool ownsBackend;
    private readonly DynamicBatcher batcher;
    private readonly ServerMetrics metrics;
    private readonly RequestLog log;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock stopGate = new();
    private Task? stopTask;
    private volatile bool stopping;

    private InferenceServer(WebApplication app, IInferenceBackend backend, bool ownsBackend, ServerOptions options,
        DynamicBatcher batcher, ServerMetrics metrics, RequestLog log)
    {
        this.app = app;
        this.backend = backend;
        this.ownsBackend = ownsBackend;
        this.batcher = batcher;
        this.metrics = metrics;
        this.log = log;
        Options = options;
        Routes = BuildRoutes();
    }

    /// <summary>The options the server runs with.</summary>
    public ServerOptions Options { get; }

    /// <summary>The model being served, as /info reports it.</summary>
    public ModelDescription Model => backend.Description;

    /// <summary>The address the server listens on, e.g. http://127.0.0.1:8080/ (the real port when Port was 0).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Batches run so far and their sizes.</summary>
    public BatchStatistics Statistics => batcher.Statistics;

    internal ServerMetrics Metrics => metrics;

    /// <summary>The server's version, as /info reports it.</summary>
    public static string Version => typeof(InferenceServer).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    /// <summary>Completes once the server has stopped.</summary>
    public Task Completion => stopped.Task;

    /// <summary>Loads the model folder into a text-classification pipeline and serves it; the server owns the pipeline.</summary>
    public static async Task<InferenceServer> StartAsync(string model, ServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        options ??= new ServerOptions();
        options.Validate();
        var logWriter = options.Log ?? Console.Error;
        var pipeline = PipelineFactory.Pipeline("text-classification", model: model,
            modelOptions: new FromPretrainedOptions { Log = message => logWriter.WriteLine($"warning: {message}") });
        pipeline.Model.InferencePrecision = options.Precision;
        var backend = new PipelineBackend(pipeline, Directory.Exists(model) ? model : null, options.ModelId, ownsPipeline: true);
        try
        {
            backend.WarmUp();
            return await StartAsync(backend, options, ownsBackend: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Serves a pipeline the caller keeps ownership of (dispose it after the server has stopped).</summary>
    public static Task<InferenceServer> StartAsync(TextClassificationPipeline pipeline, ServerOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        options ??= new ServerOptions();
        options.Validate();
        var backend = new PipelineBackend(pipeline, modelPath: null, options.ModelId, ownsPipeline: false);
        backend.WarmUp();
        return StartAsync(backend, options, ownsBackend: false, cancellationToken);
    }

    internal static async Task<InferenceServer> StartAsync(IInferenceBackend backend, ServerOptions options, bool ownsBackend,
        CancellationToken cancellationToken)
    {
        options.Validate();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Sharpformers.Server" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The body limit is enforced by the handler (a JSON 413); Kestrel's own limit would also make it unable
            // to drain a refused body, cutting the connection before the client reads the 413.
            kestrel.Limits.MaxRequestBodySize = null;
            // "localhost" is the IPv4 loopback: one socket, and port 0 works (Kestrel's ListenLocalhost refuses a dynamic port).
            var address = options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            kestrel.Listen(address, options.Port);
        });
        // The caller decides when to stop (the CLI on Ctrl+C/SIGTERM): no console lifetime, no "Application started" lines.
        builder.Services.AddSingleton<IHostLifetime, CallerControlledLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        if (options.Verbose)
        {
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console =>
                console.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
        }
        var app = builder.Build();
        var metrics = new ServerMetrics();
        var batcher = new DynamicBatcher(backend, options.MaxBatchSize, options.MaxWait, options.MaxQueue, metrics);
        var log = new RequestLog(options.Log ?? Console.Error);
        var server = new InferenceServer(app, backend, ownsBackend, options, batcher, metrics, log);
        app.Run(server.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await batcher.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        server.Address = new Uri(addresses.First().TrimEnd('/') + "/");
        if (!backend.CanBatch)
        {
            log.Write("warning: the tokenizer has no padding token, so every input runs in a batch of its own");
        }
        return server;
    }

    /// <summary>
    /// Stops gracefully: new requests are refused (503 on open connections, no new connections), requests in
    /// flight finish (up to <see cref="ServerOptions.ShutdownTimeout"/> or until <paramref name="cancellationToken"/>
    /// is cancelled), then the batcher and the model are released. Calling it again returns the same task.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (stopGate)
        {
            return stopTask ??= StopCoreAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        try
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await batcher.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            await log.DisposeAsync().ConfigureAwait(false);
            if (ownsBackend && backend is IDisposable disposable) disposable.Dispose();
            stopped.TrySetResult();
        }
    }

    /// <summary>A host lifetime that neither listens to console signals nor prints start-up lines.</summary>
    private sealed class CallerControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
