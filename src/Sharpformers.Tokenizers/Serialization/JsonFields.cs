using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Tokenizers.Serialization;

/// <summary>
/// Typed access to JSON objects read from tokenizer files, with errors that name the file and the field and
/// say what was expected.
/// </summary>
internal static class JsonFields
{
    public static JsonObject ParseObject(string path, string? displayName = null)
    {
        string name = displayName ?? Path.GetFileName(path);
        JsonNode? node;
        try
        {
            using var stream = File.OpenRead(path);
            node = JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 512, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: not valid JSON ({e.Message})", e);
        }
        return node as JsonObject ?? throw new InvalidDataException($"{name}: expected a JSON object at the top level, got {Kind(node)}");
    }

    public static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    public static string? GetString(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw new InvalidDataException($"{file}: '{field}' must be a string, got {Kind(node)}");
    }

    public static string RequireString(JsonObject obj, string field, string file) =>
        GetString(obj, field, file) ?? throw new InvalidDataException($"{file}: missing required string '{field}'");

    public static bool? GetBool(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        throw new InvalidDataException($"{file}: '{field}' must be true or false, got {Kind(node)}");
    }

    public static int? GetInt(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i)) return i;
        if (node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue(out double x) && x == Math.Floor(x)
            && x is >= int.MinValue and <= int.MaxValue)
        {
            return (int)x;
        }
        throw new InvalidDataException($"{file}: '{field}' must be an integer, got {Describe(node)}");
    }

    public static double? GetDouble(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        throw new InvalidDataException($"{file}: '{field}' must be a number, got {Describe(node)}");
    }

    /// <summary>An integer that may be huge (model_max_length is often 1e30 written as an integer).</summary>
    public static long? GetLongSaturating(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue(out long l)) return l;
            double d = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (d >= long.MaxValue) return long.MaxValue;
            return (long)d;
        }
        throw new InvalidDataException($"{file}: '{field}' must be an integer, got {Describe(node)}");
    }

    public static JsonObject? GetObject(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        return node as JsonObject ?? throw new InvalidDataException($"{file}: '{field}' must be an object, got {Kind(node)}");
    }

    public static JsonArray? GetArray(JsonObject obj, string field, string file)
    {
        if (!obj.TryGetPropertyValue(field, out var node) || node is null) return null;
        return node as JsonArray ?? throw new InvalidDataException($"{file}: '{field}' must be an array, got {Kind(node)}");
    }

    public static JsonObject RequireObject(JsonObject obj, string field, string file) =>
        GetObject(obj, field, file) ?? throw new InvalidDataException($"{file}: missing required object '{field}'");

    public static JsonArray RequireArray(JsonObject obj, string field, string file) =>
        GetArray(obj, field, file) ?? throw new InvalidDataException($"{file}: missing required array '{field}'");

    /// <summary>A string element of an array, with the element's path in the error.</summary>
    public static string ElementString(JsonNode? node, string where)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw new InvalidDataException($"{where} must be a string, got {Kind(node)}");
    }

    /// <summary>An integer element, with the element's path in the error.</summary>
    public static int ElementInt(JsonNode? node, string where)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i)) return i;
        throw new InvalidDataException($"{where} must be an integer, got {Describe(node)}");
    }

    /// <summary>A number element, with the element's path in the error.</summary>
    public static double ElementDouble(JsonNode? node, string where)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        throw new InvalidDataException($"{where} must be a number, got {Describe(node)}");
    }

    private static string Describe(JsonNode? node) => node is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String
        ? $"{Kind(node)} ({v.ToJsonString()})"
        : Kind(node);
}
