using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// Typed reads from a config.json object. A value of the wrong type, or a required field that is
/// missing, is an InvalidDataException naming the file, the field and the type expected. Every key
/// read is remembered, so the keys nobody read can be kept for round-tripping.
/// </summary>
public sealed class ConfigReader
{
    private readonly HashSet<string> consumed = new(StringComparer.Ordinal);
    private readonly JsonObject json;

    public ConfigReader(JsonObject json, string source)
    {
        // Re-parsed so every value is backed by a JsonElement, whether it came from a file or was set in code.
        this.json = JsonNode.Parse(json.ToJsonString())!.AsObject();
        Source = source;
    }

    /// <summary>The file (or description) the values came from, for messages.</summary>
    public string Source { get; }

    public bool Has(string key) => json.ContainsKey(key);

    /// <summary>True when the key is absent or JSON null.</summary>
    public bool IsNullOrMissing(string key) => !json.TryGetPropertyValue(key, out var node) || node is null;

    public int RequiredInt(string key) => Int(key, null);

    public int Int(string key, int? defaultValue)
    {
        var node = Take(key);
        if (node is null)
        {
            if (defaultValue is int d && !json.ContainsKey(key)) return d;
            throw Missing(key, "an integer");
        }
        if (node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue(out long value) && value is >= int.MinValue and <= int.MaxValue)
        {
            return (int)value;
        }
        throw Wrong(key, "an integer", node);
    }

    public int? NullableInt(string key, int? defaultValue)
    {
        if (!json.ContainsKey(key))
        {
            consumed.Add(key);
            return defaultValue;
        }
        if (json[key] is null)
        {
            consumed.Add(key);
            return null;
        }
        return Int(key, null);
    }

    public double Double(string key, double? defaultValue)
    {
        var node = Take(key);
        if (node is null)
        {
            if (defaultValue is double d && !json.ContainsKey(key)) return d;
            throw Missing(key, "a number");
        }
        if (node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue(out double value)) return value;
        throw Wrong(key, "a number", node);
    }

    public double? NullableDouble(string key, double? defaultValue)
    {
        if (!json.ContainsKey(key))
        {
            consumed.Add(key);
            return defaultValue;
        }
        if (json[key] is null)
        {
            consumed.Add(key);
            return null;
        }
        return Double(key, null);
    }

    public bool Bool(string key, bool? defaultValue)
    {
        var node = Take(key);
        if (node is null)
        {
            if (defaultValue is bool d && !json.ContainsKey(key)) return d;
            throw Missing(key, "true or false");
        }
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, "true or false", node),
        };
    }

    public string String(string key, string? defaultValue)
    {
        var node = Take(key);
        if (node is null)
        {
            if (defaultValue is not null && !json.ContainsKey(key)) return defaultValue;
            throw Missing(key, "a string");
        }
        if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
        throw Wrong(key, "a string", node);
    }

    public string? NullableString(string key, string? defaultValue = null)
    {
        if (!json.ContainsKey(key))
        {
            consumed.Add(key);
            return defaultValue;
        }
        if (json[key] is null)
        {
            consumed.Add(key);
            return null;
        }
        return String(key, null);
    }

    public IReadOnlyList<string>? NullableStringList(string key)
    {
        var node = Take(key);
        if (node is null) return null;
        if (node is JsonArray array && array.All(e => e?.GetValueKind() == JsonValueKind.String))
        {
            return array.Select(e => e!.GetValue<string>()).ToList();
        }
        throw Wrong(key, "a list of strings", node);
    }

    /// <summary>An object of string keys → whatever, or null when absent/null.</summary>
    public JsonObject? NullableObject(string key)
    {
        var node = Take(key);
        if (node is null) return null;
        if (node is JsonObject o) return o;
        throw Wrong(key, "an object", node);
    }

    /// <summary>The JSON kind of the key's value (Null for null); null when the key is absent.</summary>
    public JsonValueKind? KindOf(string key) =>
        json.TryGetPropertyValue(key, out var node) ? node?.GetValueKind() ?? JsonValueKind.Null : null;

    /// <summary>
    /// True when the key holds a number written without a fraction or exponent ("0", not "0.0"):
    /// Python's json keeps that spelling, and transformers writes a float field whose default is the
    /// int 0 as "0", so a config that round-trips must remember it.
    /// </summary>
    public bool IsIntegerLiteral(string key) =>
        json.TryGetPropertyValue(key, out var node) && node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
        && value.TryGetValue(out JsonElement element) && element.GetRawText().AsSpan().IndexOfAny(".eE") < 0;

    /// <summary>The keys nobody read, deep-copied: unknown fields kept so a saved config round-trips.</summary>
    public JsonObject Unconsumed()
    {
        var extra = new JsonObject();
        foreach (var (key, value) in json)
        {
            if (!consumed.Contains(key)) extra[key] = value?.DeepClone();
        }
        return extra;
    }

    public InvalidDataException Error(string key, string problem) => new($"{Source}: field '{key}' {problem}.");

    public InvalidDataException Wrong(string key, string expected, JsonNode? node) =>
        new($"{Source}: field '{key}' must be {expected}, got {Describe(node)}.");

    private InvalidDataException Missing(string key, string expected) =>
        json.ContainsKey(key)
            ? new InvalidDataException($"{Source}: field '{key}' must be {expected}, got null.")
            : new InvalidDataException($"{Source}: required field '{key}' ({expected}) is missing.");

    private JsonNode? Take(string key)
    {
        consumed.Add(key);
        return json.TryGetPropertyValue(key, out var node) ? node : null;
    }

    private static string Describe(JsonNode? node)
    {
        if (node is null) return "null";
        string text = node.ToJsonString();
        if (text.Length > 60) text = text[..57] + "...";
        string kind = node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "the number",
            JsonValueKind.True or JsonValueKind.False => "the boolean",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "the value",
        };
        return $"{kind} {text}";
    }
}
