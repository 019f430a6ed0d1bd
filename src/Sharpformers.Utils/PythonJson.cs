using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Utils;

/// <summary>
/// JSON exactly as Python's <c>json.dumps(obj, indent=…, sort_keys=…)</c> writes it, so that
/// config.json (indent 2, sorted keys, as transformers writes it), trainer_state.json,
/// training_args.json and all_results.json are byte-for-byte what Python would write for the same values: floats as Python's repr (5e-05, 0.0001, 3.0), NaN/Infinity
/// bare, non-ASCII escaped as \uXXXX (ensure_ascii), ", " / ": " separators with indentation.
/// Also Python's <c>round(x, n)</c>, which HF applies to logged losses and epochs.
/// </summary>
public static class PythonJson
{
    /// <summary>
    /// Serialises null, bool, int, long, float, double, string, dictionaries with string keys, lists
    /// and System.Text.Json nodes (a number read from a file keeps its spelling, so a config.json
    /// round-trips byte for byte). A float is written as the double of its value (Python's float(tensor.item())).
    /// </summary>
    public static string Serialize(object? value, int? indent = 2, bool sortKeys = false)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, sortKeys, 0);
        return sb.ToString();
    }

    /// <summary>Python's <c>repr(float)</c>: the shortest round-tripping digits, fixed or scientific as Python chooses.</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";
        // "R" gives the shortest round-tripping digits; re-lay them out as Python's float_repr_style 'short' does.
        string roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = Decompose(roundTrip);
        string sign = value < 0 ? "-" : "";
        // decpt = position of the decimal point relative to the digit string (Python's convention).
        int decpt = exponent + 1;
        if (decpt > -4 && decpt <= 16)
        {
            if (decpt <= 0) return sign + "0." + new string('0', -decpt) + digits;
            if (decpt >= digits.Length) return sign + digits + new string('0', decpt - digits.Length) + ".0";
            return sign + digits[..decpt] + "." + digits[decpt..];
        }
        string mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
        int e = decpt - 1;
        return sign + mantissa + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Python's <c>round(x, ndigits)</c>: the exact binary value rounded half-to-even at
    /// <paramref name="digits"/> decimals, then the nearest double (so round(0.125, 2) == 0.12).
    /// </summary>
    public static double Round(double value, int digits)
    {
        if (!double.IsFinite(value) || value == 0) return value;
        long bits = BitConverter.DoubleToInt64Bits(value);
        bool negative = bits < 0;
        int exponentBits = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = exponentBits == 0 ? fraction : fraction | (1L << 52);
        int exponent = (exponentBits == 0 ? 1 : exponentBits) - 1075;
        // |value| = mantissa · 2^exponent; scale by 10^digits and round half-even exactly.
        BigInteger numerator = mantissa;
        BigInteger denominator = BigInteger.One;
        if (exponent >= 0) numerator <<= exponent;
        else denominator <<= -exponent;
        if (digits >= 0) numerator *= BigInteger.Pow(10, digits);
        else denominator *= BigInteger.Pow(10, -digits);
        BigInteger quotient = BigInteger.DivRem(numerator, denominator, out BigInteger remainder);
        int comparison = (remainder * 2).CompareTo(denominator);
        if (comparison > 0 || (comparison == 0 && !quotient.IsEven)) quotient += 1;
        string text = quotient.ToString(CultureInfo.InvariantCulture) + "E" + (-digits).ToString(CultureInfo.InvariantCulture);
        double rounded = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return negative ? -rounded : rounded;
    }

    private const string SpecialPrefix = "\u0000pyfloat:";

    /// <summary>
    /// Python's json allows bare NaN, Infinity and -Infinity, which System.Text.Json rejects: this
    /// turns them (outside string literals) into marker strings that <see cref="SpecialFloat"/> reads back.
    /// </summary>
    public static string ToStrictJson(string pythonJson)
    {
        ArgumentNullException.ThrowIfNull(pythonJson);
        if (!pythonJson.Contains("NaN", StringComparison.Ordinal) && !pythonJson.Contains("Infinity", StringComparison.Ordinal)) return pythonJson;
        var sb = new StringBuilder(pythonJson.Length + 32);
        bool inString = false;
        for (int i = 0; i < pythonJson.Length; i++)
        {
            char c = pythonJson[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < pythonJson.Length) sb.Append(pythonJson[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') inString = true;
            string? token = Match(pythonJson, i, "NaN") ?? Match(pythonJson, i, "-Infinity") ?? Match(pythonJson, i, "Infinity");
            if (token is not null)
            {
                sb.Append("\"").Append("\\u0000pyfloat:").Append(token).Append('"');
                i += token.Length - 1;
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();

        static string? Match(string text, int at, string token) =>
            string.CompareOrdinal(text, at, token, 0, token.Length) == 0 ? token : null;
    }

    /// <summary>The value of a marker made by <see cref="ToStrictJson"/>, or null for any other string.</summary>
    public static double? SpecialFloat(string value) => value switch
    {
        SpecialPrefix + "NaN" => double.NaN,
        SpecialPrefix + "Infinity" => double.PositiveInfinity,
        SpecialPrefix + "-Infinity" => double.NegativeInfinity,
        _ => null,
    };

    private static (string Digits, int Exponent) Decompose(string roundTrip)
    {
        // roundTrip is like "1.2345E-05", "12345.678" or "5E-05": collect digits and the power of ten of the first one.
        string mantissaText = roundTrip;
        int exponent = 0;
        int e = roundTrip.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            mantissaText = roundTrip[..e];
            exponent = int.Parse(roundTrip[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        int point = mantissaText.IndexOf('.');
        string integerPart = point >= 0 ? mantissaText[..point] : mantissaText;
        string fractionPart = point >= 0 ? mantissaText[(point + 1)..] : "";
        string all = integerPart + fractionPart;
        int leadingZeros = 0;
        while (leadingZeros < all.Length - 1 && all[leadingZeros] == '0') leadingZeros++;
        string digits = all[leadingZeros..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int firstDigitPower = integerPart.Length - 1 - leadingZeros + exponent;
        return (digits, firstDigitPower);
    }

    private static void Write(StringBuilder sb, object? value, int? indent, bool sortKeys, int level)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case int or long or short or byte or uint or ulong:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case float f:
                sb.Append(FormatFloat(f));
                break;
            case double d:
                sb.Append(FormatFloat(d));
                break;
            case JsonObject obj:
                WriteObject(sb, obj.Select(p => (p.Key, (object?)p.Value)), indent, sortKeys, level);
                break;
            case JsonArray array:
                WriteArray(sb, array.Select(n => (object?)n), indent, sortKeys, level);
                break;
            case JsonValue jsonValue:
                WriteJsonValue(sb, jsonValue);
                break;
            case IDictionary dictionary:
                WriteObject(sb, dictionary.Keys.Cast<object>().Select(k => (Key: Convert.ToString(k, CultureInfo.InvariantCulture)!, Value: dictionary[k])), indent, sortKeys, level);
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                WriteObject(sb, pairs.Select(p => (p.Key, (object?)p.Value)), indent, sortKeys, level);
                break;
            case IEnumerable<KeyValuePair<string, double>> numbers:
                WriteObject(sb, numbers.Select(p => (p.Key, (object?)p.Value)), indent, sortKeys, level);
                break;
            case IEnumerable list:
                WriteArray(sb, list.Cast<object?>(), indent, sortKeys, level);
                break;
            default:
                throw new ArgumentException($"Cannot write a {value.GetType().Name} as JSON.", nameof(value));
        }
    }

    private static void WriteJsonValue(StringBuilder sb, JsonValue value)
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

    private static void WriteObject(StringBuilder sb, IEnumerable<(string Key, object? Value)> items, int? indent, bool sortKeys, int level)
    {
        var list = items.ToList();
        if (sortKeys) list = list.OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        if (list.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        sb.Append('{');
        for (int i = 0; i < list.Count; i++)
        {
            sb.Append(i == 0 ? "" : ",");
            NewLine(sb, indent, level + 1);
            WriteString(sb, list[i].Key);
            sb.Append(": ");
            Write(sb, list[i].Value, indent, sortKeys, level + 1);
        }
        NewLine(sb, indent, level);
        sb.Append('}');
    }

    private static void WriteArray(StringBuilder sb, IEnumerable<object?> items, int? indent, bool sortKeys, int level)
    {
        var list = items.ToList();
        if (list.Count == 0)
        {
            sb.Append("[]");
            return;
        }
        sb.Append('[');
        for (int i = 0; i < list.Count; i++)
        {
            sb.Append(i == 0 ? "" : ",");
            NewLine(sb, indent, level + 1);
            Write(sb, list[i], indent, sortKeys, level + 1);
        }
        NewLine(sb, indent, level);
        sb.Append(']');
    }

    private static void NewLine(StringBuilder sb, int? indent, int level)
    {
        if (indent is int spaces)
        {
            sb.Append('\n').Append(' ', spaces * level);
        }
        else if (sb.Length > 0 && sb[^1] == ',')
        {
            sb.Append(' ');
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }
}
