using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// Writes JSON exactly as Python's <c>json.dumps(obj, indent=2, sort_keys=True)</c> does, which is how
/// <c>transformers</c> writes config.json: sorted keys, two-space indent, ", " and ": " separators,
/// non-ASCII escaped as \uXXXX, floats in Python's repr (0.1, 1e-12, 2.0).
/// </summary>
public static class PythonJson
{
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0);
        return sb.ToString();
    }

    /// <summary>A double as Python's repr prints it.</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        string r = value.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E')) return r.Replace("E", "e", StringComparison.Ordinal);
        return r.Contains('.') ? r : r + ".0";
    }

    private static void Write(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append("{\n");
                bool firstKey = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!firstKey) sb.Append(",\n");
                    firstKey = false;
                    sb.Append(' ', 2 * (depth + 1));
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value, depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append('}');
                break;
            case JsonArray array:
                if (array.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append("[\n");
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(",\n");
                    sb.Append(' ', 2 * (depth + 1));
                    Write(sb, array[i], depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            case JsonValueKind.Null:
                sb.Append("null");
                return;
            case JsonValueKind.Number:
                if (value.TryGetValue(out JsonElement element)) sb.Append(element.GetRawText()); // keeps a file's spelling
                else if (value.TryGetValue(out double d)) sb.Append(FormatFloat(d));
                else if (value.TryGetValue(out float f)) sb.Append(FormatFloat(f));
                else sb.Append(value.ToJsonString());
                return;
            default:
                sb.Append(value.ToJsonString());
                return;
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch < 0x20 || ch > 0x7E) sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        sb.Append('"');
    }
}
