using System.Net;
using System.Text;

namespace Sharpformers.Server.Tests;

/// <summary>One server with small limits shared by the bad-request cases.</summary>
public sealed class LimitedServerFixture : IAsyncLifetime
{
    public const int MaxInputs = 4;
    public const int MaxBodyBytes = 4096;

    internal TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await TestServer.StartAsync("tiny-bert", new ServerOptions { MaxInputsPerRequest = MaxInputs, MaxBodyBytes = MaxBodyBytes });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Every malformed request gets a JSON error with the right status, error type and a message naming the problem.</summary>
public sealed class BadRequestTests(LimitedServerFixture fixture) : IClassFixture<LimitedServerFixture>
{
    private TestServer Server => fixture.Server;

    private Task<Reply> Post(string body, string? contentType = "application/json") => Server.PostAsync("/predict", body, contentType);

    [Fact]
    public async Task MalformedJsonNamesThePosition()
    {
        string message = (await Post("{\"inputs\": \"ok\",}")).AssertError(400, ErrorTypes.InvalidJson);
        Assert.StartsWith("malformed JSON at line 1, column 17: ", message);
        Assert.Contains("trailing comma", message);
        Assert.DoesNotContain("reader options", message);

        message = (await Post("{\n  \"inputs\": [\"a\" \"b\"]\n}")).AssertError(400, ErrorTypes.InvalidJson);
        Assert.StartsWith("malformed JSON at line 2, column 18: ", message);

        message = (await Post("{\"inputs\": \"unterminated")).AssertError(400, ErrorTypes.InvalidJson);
        Assert.StartsWith("malformed JSON at line 1", message);

        message = (await Post("")).AssertError(400, ErrorTypes.InvalidJson);
        Assert.Equal("request body is empty; expected a JSON object such as {\"inputs\": \"I love this!\"}", message);
        (await Post("  \r\n")).AssertError(400, ErrorTypes.InvalidJson);
    }

    [Fact]
    public async Task InvalidUtf8NamesTheByte()
    {
        byte[] body = [.. "{\"inputs\": \"caf"u8, 0xE9, .. "\"}"u8]; // Latin-1 é
        var reply = await Server.PostAsync("/predict", body);
        string message = reply.AssertError(400, ErrorTypes.InvalidUtf8);
        Assert.Equal("request body is not valid UTF-8: invalid byte 0xE9 at offset 15. JSON must be sent as UTF-8.", message);

        byte[] truncated = [.. "{\"inputs\": \"x\"}"u8, 0xF0, 0x9F];
        Assert.Contains("offset 15", (await Server.PostAsync("/predict", truncated)).AssertError(400, ErrorTypes.InvalidUtf8));
    }

    [Fact]
    public async Task SchemaErrorsNameTheField()
    {
        Assert.Equal("request body must be a JSON object with an \"inputs\" field, such as {\"inputs\": \"I love this!\"}; got a list",
            (await Post("[\"text\"]")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("missing required field 'inputs'; send for example {\"inputs\": \"I love this!\"}",
            (await Post("{\"parameters\": {}}")).AssertError(422, ErrorTypes.Validation));
        Assert.StartsWith("unknown field 'input' (did you mean 'inputs'?)",
            (await Post("{\"input\": \"x\"}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("field 'inputs' appears more than once",
            (await Post("{\"inputs\": \"x\", \"inputs\": \"y\"}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("field 'inputs' must be a string, an object {\"text\", \"text_pair\"} or a list of them; got the number 42",
            (await Post("{\"inputs\": 42}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("field 'inputs' must be a string, an object {\"text\", \"text_pair\"} or a list of them; got null",
            (await Post("{\"inputs\": null}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs[1] must be a string, an object {\"text\", \"text_pair\"} or a [text, text_pair] pair; got null",
            (await Post("{\"inputs\": [\"a\", null]}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs.text must be a string; got the number 3",
            (await Post("{\"inputs\": {\"text\": 3}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs[0] is missing its required field \"text\"",
            (await Post("{\"inputs\": [{\"text_pair\": \"b\"}]}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs.text_pair must be a string or null; got true",
            (await Post("{\"inputs\": {\"text\": \"a\", \"text_pair\": true}}")).AssertError(422, ErrorTypes.Validation));
        Assert.StartsWith("unknown field inputs.pair",
            (await Post("{\"inputs\": {\"text\": \"a\", \"pair\": \"b\"}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs[0] is a list of 3 items; a list inside 'inputs' is a pair [text, text_pair] of two strings",
            (await Post("{\"inputs\": [[\"a\", \"b\", \"c\"]]}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("inputs[0][1] (the text pair) must be a string; got the number 1",
            (await Post("{\"inputs\": [[\"a\", 1]]}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("field 'options' must be an object; got the string \"fast\"",
            (await Post("{\"inputs\": \"a\", \"options\": \"fast\"}")).AssertError(422, ErrorTypes.Validation));
    }

    [Fact]
    public async Task ParameterErrorsNameTheParameter()
    {
        Assert.Equal("field 'parameters' must be an object such as {\"top_k\": 2}; got a list",
            (await Post("{\"inputs\": \"a\", \"parameters\": []}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("parameters.top_k must be a positive integer, or null for every label; got the number 0",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"top_k\": 0}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("parameters.top_k must be a positive integer, or null for every label; got the number 1.5",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"top_k\": 1.5}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("parameters.top_k must be a positive integer, or null for every label; got the string \"3\"",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"top_k\": \"3\"}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("parameters.function_to_apply must be \"softmax\", \"sigmoid\" or \"none\"; got the string \"relu\"",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"function_to_apply\": \"relu\"}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("parameters.truncation must be true or false; got the string \"yes\"",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"truncation\": \"yes\"}}")).AssertError(422, ErrorTypes.Validation));
        Assert.Equal("unknown parameter parameters.topk (did you mean 'top_k'?); text classification takes top_k, function_to_apply and truncation",
            (await Post("{\"inputs\": \"a\", \"parameters\": {\"topk\": 2}}")).AssertError(422, ErrorTypes.Validation));
        // HF clients' "options" ({"wait_for_model": true}) and null parameters are accepted.
        Assert.Equal(200, (await Post("{\"inputs\": \"a\", \"parameters\": null, \"options\": {\"wait_for_model\": true}}")).Code);
    }

    [Fact]
    public async Task EmptyListIsRefusedButAnEmptyStringIsClassified()
    {
        Assert.Equal("field 'inputs' is an empty list; send at least one text",
            (await Post("{\"inputs\": []}")).AssertError(422, ErrorTypes.Validation));
        // transformers classifies "" ([CLS] [SEP]); so does the Inference API, and so do we.
        var empty = await Post("{\"inputs\": \"\"}");
        Assert.Equal(200, empty.Code);
        Assert.Equal("neutral", empty.Json[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task TooManyInputsNamesTheLimit()
    {
        var ok = await Post("{\"inputs\": [\"a\", \"b\", \"c\", \"d\"]}");
        Assert.Equal(200, ok.Code);
        Assert.Equal(4, ok.Json.GetArrayLength());
        Assert.Equal("field 'inputs' holds 5 inputs; this server accepts at most 4 per request (split the list, or raise --max-inputs)",
            (await Post("{\"inputs\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}")).AssertError(413, ErrorTypes.TooManyInputs));
    }

    [Fact]
    public async Task BodyTooLargeIs413WithTheLimit()
    {
        string big = "{\"inputs\": \"" + new string('x', LimitedServerFixture.MaxBodyBytes) + "\"}";
        Assert.Equal($"request body is {Encoding.UTF8.GetByteCount(big)} bytes; this server accepts at most 4096 bytes (--max-body-bytes)",
            (await Post(big)).AssertError(413, ErrorTypes.PayloadTooLarge));

        // Chunked (no Content-Length): refused while reading.
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Server.Client.SendAsync(request);
        Assert.Equal("request body is over 4096 bytes; this server accepts at most 4096 bytes (--max-body-bytes)",
            (await Reply.ReadAsync(response)).AssertError(413, ErrorTypes.PayloadTooLarge));

        // Much larger than the limit: still a clean 413 the client can read.
        string huge = "{\"inputs\": \"" + new string('x', 3_000_000) + "\"}";
        Assert.Contains("this server accepts at most 4096 bytes", (await Post(huge)).AssertError(413, ErrorTypes.PayloadTooLarge));

        // Just under the limit is fine.
        string fits = "{\"inputs\": \"" + new string('x', 100) + "\"}";
        Assert.Equal(200, (await Post(fits)).Code);
    }

    [Fact]
    public async Task ContentTypeMustBeJson()
    {
        Assert.Equal("Content-Type 'text/plain' is not supported; send the body as JSON with 'Content-Type: application/json'",
            (await Post("{\"inputs\": \"a\"}", "text/plain")).AssertError(415, ErrorTypes.UnsupportedMediaType));
        Assert.Contains("'application/x-www-form-urlencoded' is not supported",
            (await Post("{\"inputs\": \"a\"}", "application/x-www-form-urlencoded")).AssertError(415, ErrorTypes.UnsupportedMediaType));
        Assert.Equal("charset 'iso-8859-1' is not supported; JSON must be sent as UTF-8",
            (await Post("{\"inputs\": \"a\"}", "application/json; charset=iso-8859-1")).AssertError(415, ErrorTypes.UnsupportedMediaType));
        Assert.Equal(200, (await Post("{\"inputs\": \"a\"}", "application/json; charset=UTF-8")).Code);
        Assert.Equal(200, (await Post("{\"inputs\": \"a\"}", "application/vnd.api+json")).Code);
        Assert.Equal(200, (await Post("{\"inputs\": \"a\"}", contentType: null)).Code); // no Content-Type: taken as JSON
    }

    [Fact]
    public async Task UnknownRouteAndWrongMethodAreJson()
    {
        var missing = await Server.GetAsync("/v1/classify");
        Assert.Equal("no route for GET /v1/classify; the routes are POST /predict (alias POST /), GET /health, GET /info and GET /metrics",
            missing.AssertError(404, ErrorTypes.NotFound));
        Assert.StartsWith("no route for POST /predict/extra", (await Server.PostAsync("/predict/extra", "{}")).AssertError(404, ErrorTypes.NotFound));

        var wrong = await Server.GetAsync("/predict");
        Assert.Equal("method GET is not allowed on /predict; use POST", wrong.AssertError(405, ErrorTypes.MethodNotAllowed));
        Assert.Equal(["POST"], wrong.Headers.Content.Headers.Allow);
        var delete = await Server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/info"));
        var deleteReply = await Reply.ReadAsync(delete);
        Assert.Equal("method DELETE is not allowed on /info; use GET", deleteReply.AssertError(405, ErrorTypes.MethodNotAllowed));
        Assert.Equal(["GET"], deleteReply.Headers.Content.Headers.Allow);
        Assert.Equal("method POST is not allowed on /health; use GET",
            (await Server.PostAsync("/health", "{}")).AssertError(405, ErrorTypes.MethodNotAllowed));
    }

    [Fact]
    public async Task TheServerKeepsServingAfterErrors()
    {
        for (int i = 0; i < 3; i++)
        {
            (await Post("{oops")).AssertError(400, ErrorTypes.InvalidJson);
            var fine = await Post("{\"inputs\": \"still here\"}");
            Assert.Equal(HttpStatusCode.OK, fine.Status);
        }
    }
}
