using System.Text;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Normalizers;

/// <summary>
/// BERT's normalization (Hugging Face's <c>BertNormalizer</c>): remove control characters and turn every kind
/// of whitespace into a space, put spaces around CJK ideographs, strip accents (NFD, then drop nonspacing
/// marks), lowercase, in that order.
/// </summary>
public sealed class BertNormalizer : INormalizer
{
    /// <param name="cleanText">Remove control characters and map whitespace to ' '.</param>
    /// <param name="handleChineseChars">Surround CJK ideographs with spaces so each becomes a word.</param>
    /// <param name="stripAccents">Strip accents; null means "when lowercasing" (the original BERT behaviour).</param>
    /// <param name="lowercase">Lowercase the text.</param>
    public BertNormalizer(bool cleanText = true, bool handleChineseChars = true, bool? stripAccents = null, bool lowercase = true)
    {
        CleanText = cleanText;
        HandleChineseChars = handleChineseChars;
        StripAccents = stripAccents;
        Lowercase = lowercase;
    }

    public bool CleanText { get; }

    public bool HandleChineseChars { get; }

    /// <summary>As configured (null: follow <see cref="Lowercase"/>).</summary>
    public bool? StripAccents { get; }

    public bool Lowercase { get; }

    /// <summary>Whether accents are actually stripped.</summary>
    public bool StripsAccents => StripAccents ?? Lowercase;

    /// <summary>Use the CJK ranges of the Python BertTokenizer (one more block than the Rust normalizer).</summary>
    internal bool PythonChineseRanges { get; init; }

    public void Normalize(NormalizedString text)
    {
        if (CleanText) Clean(text);
        if (HandleChineseChars) IsolateChinese(text, PythonChineseRanges);
        if (StripsAccents)
        {
            text.Normalize(NormalizationForm.FormD);
            text.Filter(static c => !CharInfo.IsNonSpacingMark(c));
        }
        if (Lowercase) text.Lowercase();
    }

    /// <summary>Drops NUL, U+FFFD and control characters, maps whitespace to ' '.</summary>
    internal static void Clean(NormalizedString text)
    {
        var span = text.Normalized;
        bool simple = true;
        foreach (char c in span)
        {
            if (c < 0x20 || c >= 0x7F)
            {
                simple = false;
                break;
            }
        }
        if (simple) return;
        var w = text.BeginRewrite(text.Length);
        for (int i = 0; i < span.Length;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            if (cp != 0 && cp != 0xFFFD && !CharInfo.IsBertControl(cp))
            {
                w.AppendCodePoint(CharInfo.IsBertWhitespace(cp) ? ' ' : cp, text.AlignmentStart(i), text.AlignmentEnd(i));
            }
            i += len;
        }
        text.Commit(ref w);
    }

    internal static void IsolateChinese(NormalizedString text, bool pythonRanges)
    {
        var span = text.Normalized;
        bool any = false;
        for (int i = 0; i < span.Length; i++)
        {
            char c = span[i];
            if (c >= 0x3400 && (CharInfo.IsChineseChar(c, pythonRanges) || char.IsSurrogate(c)))
            {
                any = true;
                break;
            }
        }
        if (!any) return;
        var w = text.BeginRewrite(text.Length + 16);
        for (int i = 0; i < span.Length;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            int s = text.AlignmentStart(i), e = text.AlignmentEnd(i);
            if (CharInfo.IsChineseChar(cp, pythonRanges))
            {
                var (ps, pe) = text.InsertedAlignment(i);
                w.Append(' ', ps, pe);
                w.AppendCodePoint(cp, s, e);
                w.Append(' ', s, e);
            }
            else
            {
                w.AppendCodePoint(cp, s, e);
            }
            i += len;
        }
        text.Commit(ref w);
    }
}
