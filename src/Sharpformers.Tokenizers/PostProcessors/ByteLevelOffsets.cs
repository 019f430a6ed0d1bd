using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PostProcessors;

/// <summary>Byte-level offset trimming: a token's offsets leave out its leading and trailing spaces ('Ġ').</summary>
internal static class ByteLevelOffsets
{
    private static readonly char SpaceChar = ByteLevelAlphabet.ByteToChar((byte)' ');

    /// <summary>Hugging Face's <c>process_offsets</c>, applied to the encoding and its overflowing windows.</summary>
    public static void Trim(Encoding encoding, bool addPrefixSpace)
    {
        TrimOne(encoding, addPrefixSpace);
        foreach (var o in encoding.Overflowing) TrimOne(o, addPrefixSpace);
    }

    private static void TrimOne(Encoding encoding, bool addPrefixSpace)
    {
        var offsets = encoding.Offsets;
        for (int i = 0; i < offsets.Length; i++)
        {
            string token = encoding.Tokens[i];
            int leading = 0;
            while (leading < token.Length && IsSpace(token[leading])) leading++;
            int trailing = 0;
            while (trailing < token.Length && IsSpace(token[token.Length - 1 - trailing])) trailing++;
            if (leading == 0 && trailing == 0) continue;
            var (start, end) = offsets[i];
            if (leading > 0)
            {
                bool isFirst = i == 0 || start == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                start = Math.Min(start + leading, end);
            }
            if (trailing > 0 && end >= trailing) end = Math.Max(end - trailing, start);
            offsets[i] = (start, end);
        }
    }

    private static bool IsSpace(char c) => c == SpaceChar || CharInfo.IsWhiteSpace(c);
}
