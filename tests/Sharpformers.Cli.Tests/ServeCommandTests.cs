using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sharpformers.Cli.Commands;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

/// <summary>`sharpformers serve` in-process on 127.0.0.1 with a free port, stopped through the command's stop token.</summary>
public sealed class ServeCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ServesUntilStoppedThenExitsCleanly()
    {
        using var stop = new CancellationTokenSource();
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        var context = new CliContext { In = TextReader.Null, Out = stdout, Error = stderr };
        var app = new CliApp([new ServeCommand(stop.Token)]);
        var run = Task.Run(() => app.Run(["serve", "--model", Fixtures.Model("tiny-distilbert"), "--port", "0", "--max-wait-ms", "1"], context));

        string listening = await stdout.WaitForLineAsync(l => l.StartsWith("Listening on ", StringComparison.Ordinal), Patience);
        string url = listening["Listening on ".Length..];
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", url);

        var golden = Goldens.Load("tiny-distilbert").GetProperty("pipeline_text_classification");
        using (var client = new HttpClient { BaseAddress = new Uri(url), Timeout = Patience })
        {
            string body = JsonSerializer.Serialize(new { inputs = golden.GetProperty("texts")[1].GetString() });
            using var response = await client.PostAsync("/predict", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var best = Assert.Single(answer.RootElement.EnumerateArray());
            Assert.Equal(golden.GetProperty("default")[1].GetProperty("label").GetString(), best.GetProperty("label").GetString());
            Assert.Equal(golden.GetProperty("default")[1].GetProperty("score").GetDouble(), best.GetProperty("score").GetDouble(), 1e-5);
            using var info = JsonDocument.Parse(await client.GetStringAsync("/info"));
            Assert.Equal("tiny-distilbert", info.RootElement.GetProperty("model_id").GetString());
            Assert.Equal(32, info.RootElement.GetProperty("max_batch_size").GetInt32());
            Assert.Equal(1, info.RootElement.GetProperty("max_wait_ms").GetDouble());
        }

        stop.Cancel();
        Assert.Equal(CliApp.Success, await run.WaitAsync(Patience));
        Assert.Equal([listening], stdout.Lines);
        var log = stderr.Lines;
        Assert.Equal("serving tiny-distilbert (distilbert, 2 labels, inputs up to 64 tokens); batches of up to 32, 1 ms wait, queue 512; Ctrl+C stops", log[0]);
        Assert.Contains(log, l => l.Contains(" POST /predict 200 ", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains(" GET /info 200 ", StringComparison.Ordinal));
        Assert.Equal(["shutting down: finishing the requests in flight", "stopped"], log.TakeLast(2));
        Assert.DoesNotContain(log, l => l.Contains("Microsoft.", StringComparison.Ordinal) || l.Contains("info:", StringComparison.Ordinal)); // no ASP.NET noise
    }

    [Fact]
    public void UsageErrorsAreOneLine()
    {
        var (code, err) = Run("serve", "--host", "example.com");
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: option '--host' expects an IP address (such as 127.0.0.1) or localhost, got 'example.com'", err);

        (code, err) = Run("serve", "--model", Fixtures.Model("tiny-bert"), "--port", "70000");
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: option '--port' must be at most 65535, got 70000", err);

        (code, err) = Run("serve", "--model", Fixtures.Model("tiny-bert"), "--max-batch-size", "0");
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: option '--max-batch-size' must be at least 1, got 0", err);

        (code, err) = Run("serve", "--model", Fixtures.Model("tiny-bert"), "--max-wait-ms", "-1");
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: option '--max-wait-ms' must be between 0 and 10000, got -1", err);
    }

    [Fact]
    public void ABadModelOrABusyPortIsOneErrorLine()
    {
        string empty = Directory.CreateTempSubdirectory("serve-tests-").FullName;
        try
        {
            var (code, err) = Run("serve", "--model", empty, "--port", "0");
            Assert.Equal(CliApp.RuntimeError, code);
            Assert.StartsWith("error: ", err);
            Assert.Single(err.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }

        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var bounded = new CancellationTokenSource(Patience); // stops it, should it ever serve
        var (busyCode, busyErr) = RunUntil(bounded.Token, "serve", "--model", Fixtures.Model("tiny-bert"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(CliApp.RuntimeError, busyCode);
        Assert.Contains($"error: Failed to bind to address http://127.0.0.1:{port}", busyErr);
    }

    // A stop token that is already cancelled: if the command ever got as far as serving, it would stop at once.
    private static (int Code, string Err) Run(params string[] args) => RunUntil(new CancellationToken(canceled: true), args);

    private static (int Code, string Err) RunUntil(CancellationToken stop, params string[] args)
    {
        var stderr = new StringWriter();
        var context = new CliContext { In = TextReader.Null, Out = new StringWriter(), Error = stderr };
        int code = new CliApp([new ServeCommand(stop)]).Run(args, context);
        return (code, stderr.ToString());
    }

    /// <summary>A thread-safe writer that collects lines and lets a test wait for one.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly Lock gate = new();
        private readonly StringBuilder partial = new();
        private readonly List<string> lines = [];
        private readonly SemaphoreSlim added = new(0);

        public override Encoding Encoding => Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (gate) return lines.ToList();
            }
        }

        public override void Write(char value)
        {
            lock (gate)
            {
                if (value == '\n')
                {
                    lines.Add(partial.ToString().TrimEnd('\r'));
                    partial.Clear();
                    added.Release();
                }
                else
                {
                    partial.Append(value);
                }
            }
        }

        public override void Write(string? value)
        {
            foreach (char c in value ?? "") Write(c);
        }

        public override void WriteLine(string? value)
        {
            lock (gate)
            {
                Write(value);
                Write('\n');
            }
        }

        public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan patience)
        {
            var deadline = DateTime.UtcNow + patience;
            while (true)
            {
                var found = Lines.FirstOrDefault(match);
                if (found is not null) return found;
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !await added.WaitAsync(left)) throw new Xunit.Sdk.XunitException("the expected line never came");
            }
        }
    }
}
