using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// GPT-2 / RoBERTa byte-level pre-tokenization (Hugging Face's <c>ByteLevel</c>): optionally prepend a space,
/// split with the GPT-2 regex, then spell every UTF-8 byte with the <see cref="ByteLevelAlphabet"/> character
/// so the model never sees an unknown character.
/// </summary>
public sealed class ByteLevelPreTokenizer(bool addPrefixSpace = true, bool trimOffsets = true, bool useRegex = true) : IPreTokenizer
{
    public bool AddPrefixSpace => addPrefixSpace;

    /// <summary>Kept for serialization; the trimming itself is the post-processor's job.</summary>
    public bool TrimOffsets => trimOffsets;

    public bool UseRegex => useRegex;

    public void PreTokenize(PreTokenizedString text)
    {
        text.SplitEach((_, s, output) =>
        {
            if (addPrefixSpace && (s.Length == 0 || s.Normalized[0] != ' ')) s.Prepend(" ");
            if (useRegex) s.Split(Gpt2Pattern.Instance, SplitDelimiterBehavior.Isolated, output);
            else output.Add(s);
        });
        text.NormalizeEach(ToByteAlphabet);
    }

    /// <summary>Rewrites each code point as the alphabet characters of its UTF-8 bytes, all aligned with it.</summary>
    internal static void ToByteAlphabet(NormalizedString s)
    {
        var span = s.Normalized;
        var w = s.BeginRewrite(span.Length * 2);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < span.Length;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            int start = s.AlignmentStart(i), end = s.AlignmentEnd(i);
            if (cp < 0x80)
            {
                w.Append(ByteLevelAlphabet.ByteToChar((byte)cp), start, end);
            }
            else
            {
                int n = EncodeUtf8(cp, utf8);
                for (int k = 0; k < n; k++) w.Append(ByteLevelAlphabet.ByteToChar(utf8[k]), start, end);
            }
            i += len;
        }
        s.Commit(ref w);
    }

    /// <summary>UTF-8 bytes of a code point; a lone surrogate is written as U+FFFD, as an encoder would.</summary>
    internal static int EncodeUtf8(int cp, Span<byte> destination)
    {
        if (cp is >= 0xD800 and <= 0xDFFF) cp = 0xFFFD;
        if (cp < 0x80)
        {
            destination[0] = (byte)cp;
            return 1;
        }
        if (cp < 0x800)
        {
            destination[0] = (byte)(0xC0 | (cp >> 6));
            destination[1] = (byte)(0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000)
        {
            destination[0] = (byte)(0xE0 | (cp >> 12));
            destination[1] = (byte)(0x80 | ((cp >> 6) & 0x3F));
            destination[2] = (byte)(0x80 | (cp & 0x3F));
            return 3;
        }
        destination[0] = (byte)(0xF0 | (cp >> 18));
        destination[1] = (byte)(0x80 | ((cp >> 12) & 0x3F));
        destination[2] = (byte)(0x80 | ((cp >> 6) & 0x3F));
        destination[3] = (byte)(0x80 | (cp & 0x3F));
        return 4;
    }
}
