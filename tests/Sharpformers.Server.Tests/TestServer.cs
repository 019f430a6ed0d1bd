using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sharpformers.Pipelines;
using Sharpformers.TestSupport;

namespace Sharpformers.Server.Tests;

/// <summary>A server on 127.0.0.1 with a free port, a client for it, and what it logged.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly StringWriter log;

    private TestServer(InferenceServer server, StringWriter log)
    {
        Server = server;
        this.log = log;
        Client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public InferenceServer Server { get; }

    public HttpClient Client { get; }

    /// <summary>Starts a server over a fixture model; <paramref name="wrap"/> may put a test backend around the real one.</summary>
    public static async Task<TestServer> StartAsync(string model, ServerOptions? options = null,
        Func<IInferenceBackend, IInferenceBackend>? wrap = null)
    {
        var writer = new StringWriter();
        options = (options ?? new ServerOptions()) with { Host = "127.0.0.1", Port = 0, Log = writer };
        var pipeline = PipelineFactory.Pipeline("text-classification", model: Fixtures.Model(model));
        IInferenceBackend backend = new PipelineBackend(pipeline, Fixtures.Model(model), modelId: null, ownsPipeline: true);
        if (wrap is not null) backend = wrap(backend);
        var server = await InferenceServer.StartAsync(backend, options, ownsBackend: true, CancellationToken.None);
        return new TestServer(server, writer);
    }

    /// <summary>Everything the server logged; complete once it has stopped.</summary>
    public string Log => log.ToString();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync();
    }

    public Task<Reply> PostAsync(string path, string body, string? contentType = "application/json", CancellationToken cancellationToken = default) =>
        PostAsync(path, Encoding.UTF8.GetBytes(body), contentType, cancellationToken);

    public async Task<Reply> PostAsync(string path, byte[] body, string? contentType = "application/json", CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await Client.PostAsync(path, content, cancellationToken);
        return await Reply.ReadAsync(response);
    }

    public async Task<Reply> GetAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        return await Reply.ReadAsync(response);
    }

    /// <summary>Polls until <paramref name="condition"/> holds, at most 20 s (bounded: fails rather than hangs).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 4000; i++)
        {
            if (condition()) return;
            await Task.Delay(5);
        }
        throw new Xunit.Sdk.XunitException($"timed out waiting until {what}");
    }
}

/// <summary>A response read whole: status, headers and body (parsed when it is JSON).</summary>
internal sealed record Reply(HttpStatusCode Status, string Body, string? ContentType, HttpResponseMessage Headers)
{
    public int Code => (int)Status;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public static async Task<Reply> ReadAsync(HttpResponseMessage response) =>
        new(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString(), response);

    /// <summary>Asserts a JSON error: the status, exactly the fields error and error_type, and no stack trace.</summary>
    public string AssertError(int status, string errorType)
    {
        Assert.True(Code == status, $"expected {status}, got {Code}: {Body}");
        Assert.Equal("application/json; charset=utf-8", ContentType);
        var json = Json;
        Assert.Equal(["error", "error_type"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(errorType, json.GetProperty("error_type").GetString());
        string message = json.GetProperty("error").GetString()!;
        Assert.DoesNotContain("   at ", message);
        Assert.DoesNotContain("Exception", message);
        return message;
    }
}
