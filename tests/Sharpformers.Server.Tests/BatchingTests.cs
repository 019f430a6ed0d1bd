using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Server.Tests;

/// <summary>Dynamic batching: concurrent requests share forward passes and each gets its own answer back.</summary>
public sealed class BatchingTests
{
    private static JsonElement Golden(string model) => Goldens.Load(model).GetProperty("pipeline_text_classification");

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public async Task ConcurrentRequestsAreBatchedAndRoutedBack(string model)
    {
        // A generous wait window makes batches form even on a busy machine; correctness never depends on it.
        await using var server = await TestServer.StartAsync(model, new ServerOptions { MaxBatchSize = 8, MaxWait = TimeSpan.FromMilliseconds(100) });
        var golden = Golden(model);
        var texts = golden.GetProperty("texts").Strings();
        var expected = golden.GetProperty("default");
        const int Clients = 8, PerClient = 8;
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            for (int r = 0; r < PerClient; r++)
            {
                int i = (c * PerClient + r) % texts.Length;
                var reply = await server.PostAsync("/predict", PredictGoldenTests.Body(texts[i]));
                Assert.Equal(200, reply.Code);
                PredictGoldenTests.AssertRanking(expected[i], reply.Json, $"client {c} request {r} (text {i})");
            }
        })).ToArray();
        await Task.WhenAll(clients);

        var stats = server.Server.Statistics;
        Assert.Equal(Clients * PerClient, stats.Inputs);
        Assert.True(stats.LargestBatch > 1, $"no two requests shared a forward pass ({stats})");
        Assert.True(stats.LargestBatch <= 8, $"a batch exceeded --max-batch-size ({stats})");
        Assert.True(stats.Batches < Clients * PerClient, $"every request ran alone ({stats})");
        Assert.Equal(0, stats.QueuedRequests);
    }

    [Fact]
    public async Task ARequestLargerThanABatchSpansBatchesInOrder()
    {
        await using var server = await TestServer.StartAsync("tiny-bert", new ServerOptions { MaxBatchSize = 3, MaxWait = TimeSpan.Zero });
        var golden = Golden("tiny-bert");
        var texts = golden.GetProperty("texts").Strings();
        var reply = await server.PostAsync("/predict", PredictGoldenTests.Body(texts, new Dictionary<string, object?> { ["top_k"] = null }));
        Assert.Equal(200, reply.Code);
        var lists = reply.Json.EnumerateArray().ToList();
        for (int i = 0; i < texts.Length; i++) PredictGoldenTests.AssertRanking(golden.GetProperty("top_k_none")[i], lists[i], $"text {i}");
        var stats = server.Server.Statistics;
        Assert.Equal(texts.Length, stats.Inputs);
        Assert.Equal((texts.Length + 2) / 3, stats.Batches);
        Assert.Equal(3, stats.LargestBatch);
    }

    [Fact]
    public async Task RequestsWithDifferentParametersShareABatch()
    {
        GatedBackend? gated = null;
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { MaxBatchSize = 16, MaxWait = TimeSpan.Zero },
            inner => gated = new GatedBackend(inner));
        var golden = Golden("tiny-distilbert");
        var texts = golden.GetProperty("texts").Strings();
        // Hold a first forward pass so the next three requests queue up together.
        var first = server.PostAsync("/predict", PredictGoldenTests.Body("warm"));
        await gated!.WaitForForwardAsync();
        // Each queued before the next is sent, so the queue order is known.
        var topOne = server.PostAsync("/predict", PredictGoldenTests.Body(texts[0]));
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests == 1, "the first request is queued");
        var all = server.PostAsync("/predict", PredictGoldenTests.Body(new[] { texts[1], texts[2] }, new Dictionary<string, object?> { ["top_k"] = null }));
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests == 2, "the second request is queued");
        var raw = server.PostAsync("/predict", PredictGoldenTests.Body(texts[3], new { function_to_apply = "none", truncation = false }));
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests == 3, "three requests are queued");
        gated.Open();
        Assert.Equal(200, (await first).Code);
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[0], (await topOne).Json, "top one");
        var lists = (await all).Json.EnumerateArray().ToList();
        PredictGoldenTests.AssertRanking(golden.GetProperty("top_k_none")[1], lists[0], "all labels 1");
        PredictGoldenTests.AssertRanking(golden.GetProperty("top_k_none")[2], lists[1], "all labels 2");
        var rawScore = Assert.Single((await raw).Json.EnumerateArray());
        Assert.True(rawScore.GetProperty("score").GetDouble() is > -20 and < 20);
        Assert.Equal(["warm"], gated.Batches[0]);
        Assert.Equal([texts[0], texts[1], texts[2], texts[3]], gated.Batches[1]); // one forward pass, in arrival order
    }

    [Fact]
    public async Task AClientThatGoesAwayDoesNotDisturbTheOthers()
    {
        GatedBackend? gated = null;
        await using var server = await TestServer.StartAsync("tiny-bert", new ServerOptions { MaxBatchSize = 4, MaxWait = TimeSpan.Zero },
            inner => gated = new GatedBackend(inner));
        var golden = Golden("tiny-bert");
        var texts = golden.GetProperty("texts").Strings();

        // In the model when its client leaves: the batch finishes, the others in it get their answers.
        using var leaving = new CancellationTokenSource();
        var inFlight = server.PostAsync("/predict", PredictGoldenTests.Body(new[] { texts[0], texts[1] }), cancellationToken: leaving.Token);
        var neighbour = server.PostAsync("/predict", PredictGoldenTests.Body(new[] { texts[2], texts[3] }));
        await gated!.WaitForForwardAsync(); // the first request alone, or both together
        // Queued when its client leaves: skipped without a forward pass.
        using var leavingQueued = new CancellationTokenSource();
        var queued = server.PostAsync("/predict", PredictGoldenTests.Body("never classified"), cancellationToken: leavingQueued.Token);
        var after = server.PostAsync("/predict", PredictGoldenTests.Body(texts[4]));
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests >= 2, "the later requests are queued");
        leaving.Cancel();
        leavingQueued.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inFlight);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        // Both handlers have seen their client leave (499 is logged, never sent) before the model moves on.
        await TestServer.WaitUntilAsync(() => server.Server.Metrics.CountWithStatus(499) == 2, "the server sees both disconnects");
        gated.Open();

        var lists = (await neighbour).Json.EnumerateArray().ToList();
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[2], lists[0], "neighbour 0");
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[3], lists[1], "neighbour 1");
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[4], (await after).Json, "after");
        Assert.DoesNotContain(gated.Batches, b => b.Contains("never classified"));
        var again = await server.PostAsync("/predict", PredictGoldenTests.Body(texts[5]));
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[5], again.Json, "later request");
    }

    [Fact]
    public async Task AFailingInputFailsOnlyItsOwnRequest()
    {
        GatedBackend? gated = null;
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { MaxBatchSize = 8, MaxWait = TimeSpan.Zero },
            inner => gated = new GatedBackend(new FailingBackend(inner)));
        var golden = Golden("tiny-distilbert");
        var texts = golden.GetProperty("texts").Strings();
        var first = server.PostAsync("/predict", PredictGoldenTests.Body("warm"));
        await gated!.WaitForForwardAsync();
        var good = server.PostAsync("/predict", PredictGoldenTests.Body(texts[1]));
        var bad = server.PostAsync("/predict", PredictGoldenTests.Body(new[] { "fine", FailingBackend.Poison }));
        var good2 = server.PostAsync("/predict", PredictGoldenTests.Body(texts[2]));
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests == 3, "three requests are queued");
        gated.Open();
        Assert.Equal(200, (await first).Code);
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[1], (await good).Json, "good");
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[2], (await good2).Json, "good2");
        Assert.Equal("the model failed on this request: input_ids out of range (simulated)", (await bad).AssertError(500, ErrorTypes.Backend));
        Assert.Equal(4, gated.Batches[1].Length); // they were batched together before the retry split them
    }
}
