namespace Sharpformers.Server;

/// <summary>
/// The <c>error_type</c> values of the server's JSON errors (<c>{"error": "...", "error_type": "..."}</c>).
/// The vocabulary follows Hugging Face's inference servers (text-embeddings-inference uses validation,
/// overloaded, backend, unhealthy) with a few more specific types for malformed HTTP requests.
/// </summary>
public static class ErrorTypes
{
    /// <summary>400: the body is not well-formed JSON.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>400: the HTTP request itself is malformed (for example its body ended early).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>400: the body is not valid UTF-8.</summary>
    public const string InvalidUtf8 = "invalid_utf8";

    /// <summary>422: the JSON is well formed but a field is missing, unknown or of the wrong type or value.</summary>
    public const string Validation = "validation";

    /// <summary>422: an input is longer than the model accepts and truncation is off.</summary>
    public const string InputTooLong = "input_too_long";

    /// <summary>413: more inputs in one request than the server accepts.</summary>
    public const string TooManyInputs = "too_many_inputs";

    /// <summary>413: the body is larger than the server accepts.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>415: the body is declared as something other than JSON.</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";

    /// <summary>404: no such route.</summary>
    public const string NotFound = "not_found";

    /// <summary>405: the route exists but not for this method.</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>503: the request queue is full; retry after the Retry-After seconds.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>503: the server is shutting down.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>500: the model failed on this request.</summary>
    public const string Backend = "backend";

    /// <summary>500: a bug in the server.</summary>
    public const string Internal = "internal";
}

/// <summary>A request that ends in a JSON error response: its HTTP status, error type and message.</summary>
public sealed class ApiException(int statusCode, string errorType, string message, int? retryAfterSeconds = null) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public string ErrorType { get; } = errorType;

    /// <summary>Seconds for the Retry-After header (503 responses), or null.</summary>
    public int? RetryAfterSeconds { get; } = retryAfterSeconds;

    internal static ApiException Validation(string message) => new(422, ErrorTypes.Validation, message);
}
