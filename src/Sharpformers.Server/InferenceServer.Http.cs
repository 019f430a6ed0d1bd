using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Sharpformers.Pipelines;

namespace Sharpformers.Server;

public sealed partial class InferenceServer
{
    private const string JsonContentType = "application/json; charset=utf-8";
    private const string PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Labels and messages as written (é, 中, quotes), not \u-escaped: the body is application/json, never
    /// embedded in HTML, which is all the default encoder's extra escaping guards against.
    /// </summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Methods that get their own metrics label; any other (clients can send anything) counts as OTHER.</summary>
    private static readonly HashSet<string> KnownMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private IReadOnlyList<Route> Routes { get; }

    /// <summary>One route: exact path (case-insensitive) and method.</summary>
    private sealed record Route(string Method, string Path, Func<HttpContext, Task> Handler, bool IsPredict = false);

    private List<Route> BuildRoutes() =>
    [
        new("POST", "/predict", PredictAsync, IsPredict: true),
        new("POST", "/", PredictAsync, IsPredict: true),
        new("GET", "/health", HealthAsync),
        new("GET", "/info", InfoAsync),
        new("GET", "/metrics", MetricsAsync),
    ];

    /// <summary>Every request: route, run, turn failures into JSON errors, count and log it.</summary>
    private async Task HandleAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        var request = context.Request;
        string method = request.Method;
        string path = request.Path.HasValue ? request.Path.Value! : "/";
        string routeLabel = "unmatched";
        string? errorType = null;
        bool isPredict = false;
        try
        {
            var matches = Routes.Where(r => string.Equals(r.Path, path, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count == 0)
            {
                throw new ApiException(404, ErrorTypes.NotFound,
                    $"no route for {method} {Shorten(path)}; the routes are POST /predict (alias POST /), GET /health, GET /info and GET /metrics");
            }
            routeLabel = matches[0].Path;
            var route = matches.FirstOrDefault(r => r.Method == method);
            if (route is null)
            {
                string allowed = string.Join(", ", matches.Select(r => r.Method));
                context.Response.Headers.Allow = allowed;
                throw new ApiException(405, ErrorTypes.MethodNotAllowed, $"method {method} is not allowed on {routeLabel}; use {allowed}");
            }
            isPredict = route.IsPredict;
            await route.Handler(context).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            errorType = e.ErrorType;
            await WriteErrorAsync(context, e).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            errorType = "client_closed"; // nobody is listening for an answer
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits while reading the body: over MaxRequestBodySize, or a body that ended early.
            var error = e.StatusCode == 413
                ? new ApiException(413, ErrorTypes.PayloadTooLarge, $"request body is over {Options.MaxBodyBytes} bytes; this server accepts at most {Options.MaxBodyBytes} bytes (--max-body-bytes)")
                : new ApiException(e.StatusCode, ErrorTypes.BadRequest, $"bad HTTP request: {e.Message}");
            errorType = error.ErrorType;
            await WriteErrorAsync(context, error).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errorType = ErrorTypes.Internal;
            log.Write($"error: {method} {Shorten(path)} failed with {e.GetType().Name}: {e.Message}" + (Options.Verbose ? $"\n{e}" : ""));
            await WriteErrorAsync(context, new ApiException(500, ErrorTypes.Internal,
                $"internal error ({e.GetType().Name}): {e.Message}. This is a bug in Sharpformers.")).ConfigureAwait(false);
        }
        finally
        {
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            // 499 is nginx's "client closed request": logged and counted, never sent.
            int status = errorType == "client_closed" ? 499 : context.Response.StatusCode;
            metrics.RecordRequest(KnownMethods.Contains(method) ? method : "OTHER", routeLabel, status, errorType, seconds, isPredict);
            if (Options.LogRequests) log.Request(method, path, status, seconds, errorType);
        }
    }

    private async Task PredictAsync(HttpContext context)
    {
        if (stopping) throw new ApiException(503, ErrorTypes.Unavailable, "the server is shutting down", retryAfterSeconds: 1);
        CheckContentType(context.Request.ContentType);
        PredictRequest request;
        var (buffer, length) = await ReadBodyAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        try
        {
            request = PredictRequestParser.Parse(buffer.AsMemory(0, length), Options.MaxInputsPerRequest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var prepared = new PreparedInput[request.Inputs.Count];
        for (int i = 0; i < prepared.Length; i++)
        {
            prepared[i] = backend.Prepare(request.Inputs[i], request.Options.Truncation, request.IsBatch ? $"inputs[{i}]" : "inputs");
        }
        var logits = await batcher.SubmitAsync(prepared, context.RequestAborted).ConfigureAwait(false);
        var results = backend.Postprocess(request.Inputs, logits, request.Options);
        await WriteJsonAsync(context, 200, json => WriteResults(json, results, request.IsBatch)).ConfigureAwait(false);
    }

    private Task HealthAsync(HttpContext context)
    {
        if (stopping) throw new ApiException(503, ErrorTypes.Unavailable, "the server is shutting down", retryAfterSeconds: 1);
        return WriteJsonAsync(context, 200, json =>
        {
            json.WriteStartObject();
            json.WriteString("status", "ok");
            json.WriteEndObject();
        });
    }

    private Task InfoAsync(HttpContext context) => WriteJsonAsync(context, 200, json =>
    {
        var model = backend.Description;
        json.WriteStartObject();
        json.WriteString("model_id", model.ModelId);
        json.WriteString("model_sha", model.ModelSha);
        json.WriteString("model_path", model.ModelPath);
        json.WriteString("model_type", model.ModelType);
        json.WriteString("architecture", model.Architecture);
        json.WriteString("task", "text-classification");
        json.WriteNumber("num_labels", model.Id2Label.Count);
        json.WriteStartObject("id2label");
        foreach (var (id, label) in model.Id2Label.OrderBy(p => p.Key)) json.WriteString(id.ToString(CultureInfo.InvariantCulture), label);
        json.WriteEndObject();
        json.WriteString("problem_type", model.ProblemType);
        json.WriteNumber("max_input_length", model.MaxInputLength);
        json.WriteNumber("max_batch_size", backend.CanBatch ? Options.MaxBatchSize : 1);
        json.WriteNumber("max_wait_ms", Options.MaxWait.TotalMilliseconds);
        json.WriteNumber("max_queue", Options.MaxQueue);
        json.WriteNumber("max_inputs_per_request", Options.MaxInputsPerRequest);
        json.WriteNumber("max_body_bytes", Options.MaxBodyBytes);
        json.WriteString("version", Version);
        json.WriteEndObject();
    });

    private async Task MetricsAsync(HttpContext context)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(metrics.Render());
        context.Response.StatusCode = 200;
        context.Response.ContentType = PrometheusContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A JSON body is expected; no Content-Type is taken as JSON (curl without -H), anything else is a 415.</summary>
    private static void CheckContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            throw new ApiException(415, ErrorTypes.UnsupportedMediaType,
                $"Content-Type '{Shorten(contentType)}' is not a valid media type; send the body as JSON with 'Content-Type: application/json'");
        }
        var type = media.MediaType;
        bool isJson = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        if (!isJson)
        {
            throw new ApiException(415, ErrorTypes.UnsupportedMediaType,
                $"Content-Type '{Shorten(contentType)}' is not supported; send the body as JSON with 'Content-Type: application/json'");
        }
        var charset = media.Charset;
        if (charset.HasValue && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(415, ErrorTypes.UnsupportedMediaType, $"charset '{Shorten(charset.ToString())}' is not supported; JSON must be sent as UTF-8");
        }
    }

    /// <summary>The body into a pooled buffer (the caller returns it), refused past MaxBodyBytes before or while reading.</summary>
    private async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        long limit = Options.MaxBodyBytes;
        if (request.ContentLength is long declared && declared > limit)
        {
            throw new ApiException(413, ErrorTypes.PayloadTooLarge,
                $"request body is {declared} bytes; this server accepts at most {limit} bytes (--max-body-bytes)");
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                int read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                length += read;
                if (length > limit)
                {
                    throw new ApiException(413, ErrorTypes.PayloadTooLarge,
                        $"request body is over {limit} bytes; this server accepts at most {limit} bytes (--max-body-bytes)");
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// The Inference API's text-classification output: for one input a list of {label, score} (best first,
    /// cut to top_k); for a list of inputs a list of such lists, in input order.
    /// </summary>
    private static void WriteResults(Utf8JsonWriter json, IReadOnlyList<ClassificationResult> results, bool isBatch)
    {
        if (!isBatch)
        {
            WriteRanking(json, results[0]);
            return;
        }
        json.WriteStartArray();
        foreach (var result in results) WriteRanking(json, result);
        json.WriteEndArray();
    }

    private static void WriteRanking(Utf8JsonWriter json, ClassificationResult result)
    {
        json.WriteStartArray();
        foreach (var score in result)
        {
            json.WriteStartObject();
            json.WriteString("label", score.Label);
            // As Python's float(tensor.item()): the float32 score widened to double, printed shortest round-trip.
            if (float.IsFinite(score.Score)) json.WriteNumber("score", (double)score.Score);
            else json.WriteNull("score"); // JSON has no NaN or infinity
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(json);
        }
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted) return Task.CompletedTask; // too late to change the status; the connection is cut instead
        if (error.RetryAfterSeconds is int seconds) context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return WriteJsonAsync(context, error.StatusCode, json =>
        {
            json.WriteStartObject();
            json.WriteString("error", error.Message);
            json.WriteString("error_type", error.ErrorType);
            json.WriteEndObject();
        });
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..97] + "...";
}
