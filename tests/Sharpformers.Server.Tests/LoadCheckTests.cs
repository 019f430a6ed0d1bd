using System.Diagnostics;
using System.Globalization;
using Sharpformers.TestSupport;
using Xunit.Abstractions;

namespace Sharpformers.Server.Tests;

/// <summary>
/// A short loopback load check with the default options: up to 2,000 requests from 16 clients, stopped
/// after 10 s. Every answer is checked; the throughput is reported (server-load.txt beside the tests,
/// and the test output), never asserted.
/// </summary>
public sealed class LoadCheckTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoThousandRequestsAllAnsweredCorrectly()
    {
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { LogRequests = false });
        var golden = Goldens.Load("tiny-distilbert").GetProperty("pipeline_text_classification");
        var texts = golden.GetProperty("texts").Strings();
        var bodies = texts.Select(t => PredictGoldenTests.Body(t)).ToArray();
        var expected = golden.GetProperty("default");
        const int Total = 2000, Clients = 16;
        var deadline = Stopwatch.StartNew();
        int next = -1;
        var latencies = new List<double>[Clients];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            latencies[c] = [];
            while (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                int n = Interlocked.Increment(ref next);
                if (n >= Total) break;
                int i = n % texts.Length;
                long started = Stopwatch.GetTimestamp();
                var reply = await server.PostAsync("/predict", bodies[i]);
                latencies[c].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.Equal(200, reply.Code);
                PredictGoldenTests.AssertRanking(expected[i], reply.Json, $"request {n}", recordWorst: false);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        double seconds = clock.Elapsed.TotalSeconds;
        // CPU time (client and server together, same process) per request: steadier than wall time on a shared machine.
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var stats = server.Server.Statistics;
        Assert.Equal(all.Length, stats.Inputs);
        Assert.True(all.Length >= 100, $"only {all.Length} requests finished in 10 s");
        string report = string.Create(CultureInfo.InvariantCulture,
            $"{all.Length} requests in {seconds:F2} s = {all.Length / seconds:F0} req/s; latency p50 {all[all.Length / 2]:F1} ms, " +
            $"p99 {all[(int)(all.Length * 0.99)]:F1} ms; {cpuMs / all.Length:F2} ms CPU per request (client + server); {stats.Batches} batches, mean {stats.MeanBatchSize:F1} inputs, largest {stats.LargestBatch} " +
            $"({Clients} clients, tiny-distilbert, {Environment.ProcessorCount} cores)");
        output.WriteLine(report);
        output.WriteLine(string.Join("\n", (await server.GetAsync("/metrics")).Body.Split('\n').Where(l => l.Contains("_sum") || l.Contains("_count"))));
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "server-load.txt"), report + "\n");
    }
}
