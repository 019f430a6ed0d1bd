using System.Globalization;

namespace Sharpformers.Tokenizers.Decoders;

/// <summary>
/// Turns runs of byte tokens (&lt;0xE2&gt;&lt;0x82&gt;&lt;0xAC&gt;) back into text; a run that is not valid UTF-8
/// becomes one U+FFFD per byte (Hugging Face's <c>ByteFallback</c>).
/// </summary>
public sealed class ByteFallbackDecoder : IDecoder
{
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByte(token, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, result);
            result.Add(token);
        }
        Flush(pending, result);
        return result;
    }

    internal static bool TryParseByte(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    private static void Flush(List<byte> pending, List<string> result)
    {
        if (pending.Count == 0) return;
        try
        {
            result.Add(StrictUtf8.GetString(pending.ToArray()));
        }
        catch (System.Text.DecoderFallbackException)
        {
            for (int i = 0; i < pending.Count; i++) result.Add("\uFFFD");
        }
        pending.Clear();
    }
}
