using System.Net.Sockets;
using System.Text.RegularExpressions;
using Sharpformers.TestSupport;

namespace Sharpformers.Server.Tests;

/// <summary>Queue limits, health and info, metrics, request logging and graceful shutdown.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task AFullQueueAnswers503WithRetryAfter()
    {
        GatedBackend? gated = null;
        await using var server = await TestServer.StartAsync("tiny-bert", new ServerOptions { MaxBatchSize = 1, MaxQueue = 2, MaxWait = TimeSpan.Zero },
            inner => gated = new GatedBackend(inner));
        var running = server.PostAsync("/predict", PredictGoldenTests.Body("one"));
        await gated!.WaitForForwardAsync();
        var waiting = new[] { server.PostAsync("/predict", PredictGoldenTests.Body("two")), server.PostAsync("/predict", PredictGoldenTests.Body("three")) };
        await TestServer.WaitUntilAsync(() => server.Server.Statistics.QueuedRequests == 2, "the queue is full");

        var refused = await server.PostAsync("/predict", PredictGoldenTests.Body("four"));
        Assert.Equal("the server is overloaded: 2 requests are already waiting for the model; retry shortly",
            refused.AssertError(503, ErrorTypes.Overloaded));
        Assert.Equal("1", refused.Headers.Headers.RetryAfter?.ToString());
        var health = await server.GetAsync("/health"); // health does not queue: still answers while overloaded
        Assert.Equal(200, health.Code);

        gated.Open();
        Assert.Equal(200, (await running).Code);
        foreach (var reply in await Task.WhenAll(waiting)) Assert.Equal(200, reply.Code);
        Assert.Equal(200, (await server.PostAsync("/predict", PredictGoldenTests.Body("five"))).Code);
        Assert.Equal(4, server.Server.Statistics.Inputs);
    }

    [Fact]
    public async Task HealthAndInfo()
    {
        await using var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { MaxBatchSize = 12, MaxWait = TimeSpan.FromMilliseconds(7), MaxQueue = 99 });
        var health = await server.GetAsync("/health");
        Assert.Equal(200, health.Code);
        Assert.Equal("{\"status\":\"ok\"}", health.Body);

        var info = (await server.GetAsync("/info")).Json;
        Assert.Equal("tiny-distilbert", info.GetProperty("model_id").GetString());
        Assert.Equal(Fixtures.Model("tiny-distilbert"), info.GetProperty("model_path").GetString());
        Assert.Equal("distilbert", info.GetProperty("model_type").GetString());
        Assert.Equal("DistilBertForSequenceClassification", info.GetProperty("architecture").GetString());
        Assert.Equal("text-classification", info.GetProperty("task").GetString());
        Assert.Equal(2, info.GetProperty("num_labels").GetInt32());
        Assert.Equal("{\"0\":\"NEGATIVE\",\"1\":\"POSITIVE\"}", info.GetProperty("id2label").GetRawText());
        Assert.Equal(64, info.GetProperty("max_input_length").GetInt32());
        Assert.Equal(12, info.GetProperty("max_batch_size").GetInt32());
        Assert.Equal(7, info.GetProperty("max_wait_ms").GetDouble());
        Assert.Equal(99, info.GetProperty("max_queue").GetInt32());
        Assert.Equal(256, info.GetProperty("max_inputs_per_request").GetInt32());
        Assert.Equal(2_000_000, info.GetProperty("max_body_bytes").GetInt64());
        Assert.Equal(InferenceServer.Version, info.GetProperty("version").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+$", InferenceServer.Version);
        Assert.Equal(JsonValueKindNull, info.GetProperty("model_sha").ValueKind);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public async Task MetricsInPrometheusFormat()
    {
        await using var server = await TestServer.StartAsync("tiny-bert", new ServerOptions { MaxWait = TimeSpan.Zero });
        for (int i = 0; i < 3; i++) Assert.Equal(200, (await server.PostAsync("/predict", PredictGoldenTests.Body(new[] { "a", "b" }))).Code);
        (await server.PostAsync("/predict", "{")).AssertError(400, ErrorTypes.InvalidJson);
        await server.GetAsync("/nowhere");
        var reply = await server.GetAsync("/metrics");
        Assert.Equal(200, reply.Code);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", reply.ContentType);
        var lines = reply.Body.Split('\n');
        Assert.Contains("sharpformers_requests_total{method=\"POST\",route=\"/predict\",status=\"200\"} 3", lines);
        Assert.Contains("sharpformers_requests_total{method=\"POST\",route=\"/predict\",status=\"400\"} 1", lines);
        Assert.Contains("sharpformers_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1", lines);
        Assert.Contains("sharpformers_request_errors_total{error_type=\"invalid_json\"} 1", lines);
        Assert.Contains("sharpformers_request_duration_seconds_count 4", lines);
        Assert.Contains("sharpformers_batch_size_bucket{le=\"1\"} 0", lines);
        Assert.Contains("sharpformers_batch_size_bucket{le=\"2\"} 3", lines);
        Assert.Contains("sharpformers_batch_size_sum 6", lines);
        Assert.Contains("sharpformers_batch_size_count 3", lines);
        Assert.Contains("sharpformers_inputs_total 6", lines);
        Assert.Contains("sharpformers_queue_depth 0", lines);
        Assert.Contains("# TYPE sharpformers_forward_duration_seconds histogram", lines);
        // Every sample line is "name{labels} value" or "name value".
        foreach (var line in lines.Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            Assert.Matches(@"^[a-z_]+(\{[a-z_]+=""[^""]*""(,[a-z_]+=""[^""]*"")*\})? -?[0-9.eE+-]+$", line);
        }
    }

    [Fact]
    public async Task EachRequestIsOneLogLine()
    {
        var server = await TestServer.StartAsync("tiny-bert");
        await server.PostAsync("/predict", PredictGoldenTests.Body("hello"));
        await server.PostAsync("/predict", "{\"inputs\": []}");
        await server.GetAsync("/health");
        await server.DisposeAsync(); // flushes the log
        var lines = server.Log.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z POST /predict 200 \d+\.\d ms$", lines[0]);
        Assert.Matches(@"^\S+ POST /predict 422 \d+\.\d ms validation$", lines[1]);
        Assert.Matches(@"^\S+ GET /health 200 \d+\.\d ms$", lines[2]);
    }

    [Fact]
    public async Task StopFinishesTheRequestInFlightThenRefusesConnections()
    {
        GatedBackend? gated = null;
        var server = await TestServer.StartAsync("tiny-distilbert", new ServerOptions { MaxWait = TimeSpan.Zero }, inner => gated = new GatedBackend(inner));
        var golden = Goldens.Load("tiny-distilbert").GetProperty("pipeline_text_classification");
        string text = golden.GetProperty("texts")[1].GetString()!;
        var inFlight = server.PostAsync("/predict", PredictGoldenTests.Body(text));
        await gated!.WaitForForwardAsync();

        var stopping = server.Server.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "the server stopped while a request was still in the model");
        gated.Open();
        var reply = await inFlight;
        Assert.Equal(200, reply.Code);
        PredictGoldenTests.AssertRanking(golden.GetProperty("default")[1], reply.Json, "request in flight during shutdown");
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(server.Server.Completion.IsCompleted);

        using var fresh = new HttpClient { BaseAddress = server.Server.Address, Timeout = TimeSpan.FromSeconds(10) };
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync("/health"));
        Assert.IsType<SocketException>(refused.InnerException);
        await server.DisposeAsync();
        Assert.Matches(new Regex(@"POST /predict 200 "), server.Log);
    }

    [Fact]
    public async Task ServesACallersPipelineAndLeavesItUsable()
    {
        using var pipeline = Sharpformers.Pipelines.PipelineFactory.Pipeline("text-classification", model: Fixtures.Model("tiny-distilbert"));
        pipeline.Model.Config.Id2Label = new Dictionary<int, string> { [0] = "négatif \"quoted\"", [1] = "积极" };
        var log = new StringWriter();
        var server = await InferenceServer.StartAsync(pipeline, new ServerOptions { Port = 0, Log = log, ModelId = "org/custom" });
        try
        {
            Assert.Equal("127.0.0.1", server.Address.Host);
            using var client = new HttpClient { BaseAddress = server.Address };
            using var response = await client.PostAsync("/predict",
                new StringContent("{\"inputs\": \"x\", \"parameters\": {\"top_k\": null}}", System.Text.Encoding.UTF8, "application/json"));
            string body = await response.Content.ReadAsStringAsync();
            Assert.Contains("\"label\":\"积极\"", body); // written as UTF-8, not \u-escaped
            Assert.Contains("\"label\":\"négatif \\\"quoted\\\"\"", body);
            using var info = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/info"));
            Assert.Equal("org/custom", info.RootElement.GetProperty("model_id").GetString());
            Assert.Equal(Fixtures.Model("tiny-distilbert"), info.RootElement.GetProperty("model_path").GetString());
        }
        finally
        {
            await server.StopAsync();
        }
        Assert.Equal("积极", pipeline.Invoke("still usable", new() { TopK = null }).Select(s => s.Label).First(l => l == "积极"));
        Assert.Equal(1, server.Statistics.Batches); // the warm-up pass runs before the server listens and is not counted
    }
}
