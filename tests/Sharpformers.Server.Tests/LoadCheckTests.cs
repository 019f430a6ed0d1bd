using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sharpformers.Pipelines;
using Sharpformers.TestSupport;
using Xunit.Abstractions;

namespace Sharpformers.Server.Tests;

/// <summary>
/// Short loopback load checks with the default options: up to 2,000 requests from 16 clients, stopped
/// after 10 s. Every answer is checked; throughput and CPU time are reported (server-load.txt beside the
/// tests, and the test output), never asserted.
/// </summary>
public sealed class LoadCheckTests(ITestOutputHelper output)
{
    private const int Total = 2000, Clients = 16;
    private static readonly Lock ReportGate = new();

    [Fact]
    public async Task TwoThousandRequestsAllAnsweredCorrectly()
    {
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { LogRequests = false });
        var golden = Goldens.Load("tiny-distilbert").GetProperty("pipeline_text_classification");
        var texts = golden.GetProperty("texts").Strings();
        var expected = golden.GetProperty("default");
        await RunAsync(server, "tiny-distilbert", texts, (i, answer) => PredictGoldenTests.AssertRanking(expected[i], answer, $"text {i}", recordWorst: false));
    }

    [Fact]
    public async Task TheHttpSideAloneWithoutTheModel()
    {
        // The same traffic with the forward pass replaced by constant logits: what parsing, tokenizing,
        // batching, JSON and HTTP cost on their own (client included).
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { LogRequests = false }, inner => new ConstantLogitsBackend(inner));
        var texts = Goldens.Load("tiny-distilbert").GetProperty("pipeline_text_classification").GetProperty("texts").Strings();
        double positive = 1 / (1 + Math.Exp(-0.1)); // softmax of (0.1, 0.2) for the second label
        await RunAsync(server, "constant logits (no model)", texts, (_, answer) =>
        {
            var best = Assert.Single(answer.EnumerateArray());
            Assert.Equal("POSITIVE", best.GetProperty("label").GetString());
            Assert.Equal(positive, best.GetProperty("score").GetDouble(), 6);
        });
    }

    private async Task RunAsync(TestServer server, string what, string[] texts, Action<int, JsonElement> check)
    {
        var bodies = texts.Select(t => PredictGoldenTests.Body(t)).ToArray();
        int next = -1;
        var latencies = new List<double>[Clients];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            latencies[c] = [];
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                int n = Interlocked.Increment(ref next);
                if (n >= Total) break;
                int i = n % texts.Length;
                long started = Stopwatch.GetTimestamp();
                var reply = await server.PostAsync("/predict", bodies[i]);
                latencies[c].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.Equal(200, reply.Code);
                check(i, reply.Json);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        double seconds = clock.Elapsed.TotalSeconds;
        // CPU time of the process (client and server together) per request: steadier than wall time on a shared machine.
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var stats = server.Server.Statistics;
        Assert.Equal(all.Length, stats.Inputs);
        Assert.True(all.Length >= 100, $"only {all.Length} requests finished in 10 s");
        string report = string.Create(CultureInfo.InvariantCulture,
            $"{what}: {all.Length} requests in {seconds:F2} s = {all.Length / seconds:F0} req/s; latency p50 {all[all.Length / 2]:F1} ms, " +
            $"p99 {all[(int)(all.Length * 0.99)]:F1} ms; {cpuMs / all.Length:F2} ms CPU per request (client + server); " +
            $"{stats.Batches} batches, mean {stats.MeanBatchSize:F1} inputs, largest {stats.LargestBatch} ({Clients} clients, {Environment.ProcessorCount} cores)");
        output.WriteLine(report);
        lock (ReportGate) File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "server-load.txt"), $"{DateTime.UtcNow:u} {report}\n");
    }

    private sealed class ConstantLogitsBackend(IInferenceBackend inner) : IInferenceBackend, IDisposable
    {
        public ModelDescription Description => inner.Description;

        public bool CanBatch => true;

        public PreparedInput Prepare(TextInput input, bool truncation, string path) => inner.Prepare(input, truncation, path);

        public float[][] Forward(IReadOnlyList<PreparedInput> batch) => batch.Select(_ => new[] { 0.1f, 0.2f }).ToArray();

        public IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> inputs, float[][] logits, TextClassificationOptions options) =>
            inner.Postprocess(inputs, logits, options);

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }
}
