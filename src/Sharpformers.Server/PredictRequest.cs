using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Sharpformers.Pipelines;

namespace Sharpformers.Server;

/// <summary>
/// A parsed <c>POST /predict</c> body: the inputs and the pipeline options they run with.
/// <see cref="IsBatch"/> is true when "inputs" was a list, so the response is a list of per-input lists.
/// </summary>
public sealed record PredictRequest(IReadOnlyList<TextInput> Inputs, bool IsBatch, TextClassificationOptions Options);

/// <summary>
/// Reads the Hugging Face Inference API's text-classification request:
/// <c>{"inputs": "text" | {"text", "text_pair"} | [ "text" | {"text", "text_pair"} | ["text", "text_pair"], ... ],
/// "parameters": {"top_k": N | null, "function_to_apply": "softmax" | "sigmoid" | "none", "truncation": bool}}</c>.
/// Every problem is an <see cref="ApiException"/> whose message names the field (as a JSON path) and what was expected.
/// </summary>
public static class PredictRequestParser
{
    private const string Example = "{\"inputs\": \"I love this!\"}";

    /// <summary>Parses a UTF-8 body; <paramref name="maxInputs"/> bounds the length of an "inputs" list.</summary>
    public static PredictRequest Parse(ReadOnlyMemory<byte> body, int maxInputs)
    {
        var bytes = body.Span;
        if (bytes.StartsWith("\uFEFF"u8))
        {
            body = body[3..]; // a UTF-8 byte order mark carries no meaning in JSON; tolerate it as transformers' clients do
            bytes = body.Span;
        }
        if (!Utf8.IsValid(bytes))
        {
            int at = IndexOfInvalidUtf8(bytes);
            throw new ApiException(400, ErrorTypes.InvalidUtf8,
                $"request body is not valid UTF-8: invalid byte 0x{bytes[at]:X2} at offset {at}. JSON must be sent as UTF-8.");
        }
        if (IsBlank(bytes))
        {
            throw new ApiException(400, ErrorTypes.InvalidJson, $"request body is empty; expected a JSON object such as {Example}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new ApiException(400, ErrorTypes.InvalidJson, DescribeJsonError(e));
        }
        using (document)
        {
            return Read(document.RootElement, maxInputs);
        }
    }

    private static PredictRequest Read(JsonElement root, int maxInputs)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.Validation($"request body must be a JSON object with an \"inputs\" field, such as {Example}; got {Describe(root)}");
        }
        JsonElement? inputs = null;
        JsonElement? parameters = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name)) throw ApiException.Validation($"field '{property.Name}' appears more than once");
            switch (property.Name)
            {
                case "inputs": inputs = property.Value; break;
                case "parameters": parameters = property.Value; break;
                case "options":
                    // The Inference API's {"use_cache", "wait_for_model"}: meaningful only for a hosted service, accepted and ignored.
                    if (property.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        throw ApiException.Validation($"field 'options' must be an object; got {Describe(property.Value)}");
                    }
                    break;
                default:
                    throw ApiException.Validation($"unknown field '{property.Name}'{Suggest(property.Name, "inputs", "parameters")}; " +
                        "the request fields are inputs (required), parameters and options");
            }
        }
        if (inputs is null) throw ApiException.Validation($"missing required field 'inputs'; send for example {Example}");
        var options = ReadParameters(parameters);
        var (list, isBatch) = ReadInputs(inputs.Value, maxInputs);
        return new PredictRequest(list, isBatch, options);
    }

    private static (List<TextInput> Inputs, bool IsBatch) ReadInputs(JsonElement inputs, int maxInputs)
    {
        switch (inputs.ValueKind)
        {
            case JsonValueKind.String:
                return ([new TextInput(inputs.GetString()!)], false);
            case JsonValueKind.Object:
                return ([ReadPairObject(inputs, "inputs")], false);
            case JsonValueKind.Array:
                int count = inputs.GetArrayLength();
                if (count == 0) throw ApiException.Validation("field 'inputs' is an empty list; send at least one text");
                if (count > maxInputs)
                {
                    throw new ApiException(413, ErrorTypes.TooManyInputs,
                        $"field 'inputs' holds {count} inputs; this server accepts at most {maxInputs} per request (split the list, or raise --max-inputs)");
                }
                var list = new List<TextInput>(count);
                int i = 0;
                foreach (var element in inputs.EnumerateArray())
                {
                    string path = $"inputs[{i++}]";
                    list.Add(element.ValueKind switch
                    {
                        JsonValueKind.String => new TextInput(element.GetString()!),
                        JsonValueKind.Object => ReadPairObject(element, path),
                        JsonValueKind.Array => ReadPairArray(element, path),
                        _ => throw ApiException.Validation(
                            $"{path} must be a string, an object {{\"text\", \"text_pair\"}} or a [text, text_pair] pair; got {Describe(element)}"),
                    });
                }
                return (list, true);
            default:
                throw ApiException.Validation(
                    $"field 'inputs' must be a string, an object {{\"text\", \"text_pair\"}} or a list of them; got {Describe(inputs)}");
        }
    }

    private static TextInput ReadPairObject(JsonElement element, string path)
    {
        string? text = null;
        string? pair = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name)) throw ApiException.Validation($"{path}.{property.Name} appears more than once");
            switch (property.Name)
            {
                case "text":
                    text = property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString()
                        : throw ApiException.Validation($"{path}.text must be a string; got {Describe(property.Value)}");
                    break;
                case "text_pair":
                    pair = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Null => null,
                        _ => throw ApiException.Validation($"{path}.text_pair must be a string or null; got {Describe(property.Value)}"),
                    };
                    break;
                default:
                    throw ApiException.Validation($"unknown field {path}.{property.Name}{Suggest(property.Name, "text", "text_pair")}; " +
                        "an input object has \"text\" and optionally \"text_pair\"");
            }
        }
        if (text is null) throw ApiException.Validation($"{path} is missing its required field \"text\"");
        return new TextInput(text, pair);
    }

    private static TextInput ReadPairArray(JsonElement element, string path)
    {
        if (element.GetArrayLength() != 2)
        {
            throw ApiException.Validation($"{path} is a list of {element.GetArrayLength()} items; a list inside 'inputs' is a pair [text, text_pair] of two strings");
        }
        var text = element[0];
        var pair = element[1];
        if (text.ValueKind != JsonValueKind.String) throw ApiException.Validation($"{path}[0] (the text) must be a string; got {Describe(text)}");
        if (pair.ValueKind != JsonValueKind.String) throw ApiException.Validation($"{path}[1] (the text pair) must be a string; got {Describe(pair)}");
        return new TextInput(text.GetString()!, pair.GetString());
    }

    private static TextClassificationOptions ReadParameters(JsonElement? parameters)
    {
        // Truncation is on by default: a server should answer a long text, as the Inference API does.
        var options = new TextClassificationOptions { TopK = 1, Truncation = true };
        if (parameters is null || parameters.Value.ValueKind == JsonValueKind.Null) return options;
        if (parameters.Value.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.Validation($"field 'parameters' must be an object such as {{\"top_k\": 2}}; got {Describe(parameters.Value)}");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in parameters.Value.EnumerateObject())
        {
            var value = property.Value;
            if (!seen.Add(property.Name)) throw ApiException.Validation($"parameters.{property.Name} appears more than once");
            switch (property.Name)
            {
                case "top_k":
                    if (value.ValueKind == JsonValueKind.Null)
                    {
                        options = options with { TopK = null };
                    }
                    else if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int k) && k >= 1)
                    {
                        options = options with { TopK = k };
                    }
                    else
                    {
                        throw ApiException.Validation($"parameters.top_k must be a positive integer, or null for every label; got {Describe(value)}");
                    }
                    break;
                case "function_to_apply":
                    options = options with
                    {
                        FunctionToApply = value.ValueKind switch
                        {
                            JsonValueKind.Null => null,
                            JsonValueKind.String => value.GetString()!.ToLowerInvariant() switch
                            {
                                "softmax" => ClassificationFunction.Softmax,
                                "sigmoid" => ClassificationFunction.Sigmoid,
                                "none" => ClassificationFunction.None,
                                _ => throw ApiException.Validation(
                                    $"parameters.function_to_apply must be \"softmax\", \"sigmoid\" or \"none\"; got {Describe(value)}"),
                            },
                            _ => throw ApiException.Validation(
                                $"parameters.function_to_apply must be \"softmax\", \"sigmoid\" or \"none\"; got {Describe(value)}"),
                        },
                    };
                    break;
                case "truncation":
                    options = options with
                    {
                        Truncation = value.ValueKind switch
                        {
                            JsonValueKind.True => true,
                            JsonValueKind.False => false,
                            JsonValueKind.Null => true,
                            _ => throw ApiException.Validation($"parameters.truncation must be true or false; got {Describe(value)}"),
                        },
                    };
                    break;
                default:
                    throw ApiException.Validation(
                        $"unknown parameter parameters.{property.Name}{Suggest(property.Name, "top_k", "function_to_apply", "truncation")}; " +
                        "text classification takes top_k, function_to_apply and truncation");
            }
        }
        return options;
    }

    /// <summary>A JsonException's message with the position in words (line and byte column, both from 1).</summary>
    private static string DescribeJsonError(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        // Advice meant for .NET programmers, not for a client sending JSON.
        message = message.Replace(" Change the reader options.", "", StringComparison.Ordinal)
            .Replace(" which is not supported in this mode", "", StringComparison.Ordinal);
        message = message.TrimEnd().TrimEnd('.');
        string where = e.LineNumber is long line && e.BytePositionInLine is long column
            ? $" at line {line + 1}, column {column + 1}"
            : "";
        return $"malformed JSON{where}: {message}";
    }

    /// <summary>A value's kind for a message, with short strings and numbers quoted.</summary>
    internal static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {Quote(value.GetString()!)}",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString(),
    };

    private static string Quote(string text) => JsonSerializer.Serialize(Shorten(text));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    private static string Suggest(string name, params string[] known)
    {
        static string Bare(string s) => s.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        var close = known.FirstOrDefault(k => Bare(k) == Bare(name)
            || (name.Length >= 3 && (k.StartsWith(name, StringComparison.OrdinalIgnoreCase) || name.StartsWith(k, StringComparison.OrdinalIgnoreCase))));
        return close is null ? "" : $" (did you mean '{close}'?)";
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(" \t\r\n"u8) < 0;

    private static int IndexOfInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[at..], out _, out int consumed) != OperationStatus.Done) return at;
            at += consumed;
        }
        return bytes.Length;
    }
}
