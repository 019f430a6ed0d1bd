using System.Text;
using Sharpformers.Tokenizers.Normalizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.SentencePiece;

/// <summary>
/// AlbertTokenizer's <c>preprocess_text</c>: collapse whitespace (<c>" ".join(text.strip().split())</c>), turn
/// `` and '' into ", drop accents (NFKD, then every character with a combining class) unless
/// <see cref="KeepAccents"/>, and lowercase.
/// </summary>
public sealed class AlbertPreprocessNormalizer(bool removeSpace = true, bool keepAccents = false, bool doLowerCase = true) : INormalizer
{
    private static readonly StringSplitPattern Backticks = new("``");
    private static readonly StringSplitPattern Quotes = new("''");

    public bool RemoveSpace => removeSpace;

    public bool KeepAccents => keepAccents;

    public bool DoLowerCase => doLowerCase;

    public void Normalize(NormalizedString text)
    {
        if (removeSpace) CollapseWhitespace(text);
        text.Replace(Backticks, "\"");
        text.Replace(Quotes, "\"");
        if (!keepAccents)
        {
            text.Normalize(NormalizationForm.FormKD);
            text.Filter(static c => !CharInfo.HasCombiningClass(c));
        }
        if (doLowerCase) text.Lowercase();
    }

    /// <summary>Python's <c>" ".join(s.strip().split())</c> with alignments: each run of whitespace becomes one space.</summary>
    private static void CollapseWhitespace(NormalizedString text)
    {
        var span = text.Normalized;
        var w = text.BeginRewrite(span.Length);
        bool pendingSpace = false;
        int spaceStart = 0, spaceEnd = 0;
        bool any = false;
        for (int i = 0; i < span.Length;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            if (CharInfo.IsPythonSpace(cp))
            {
                if (any && !pendingSpace)
                {
                    pendingSpace = true;
                    spaceStart = text.AlignmentStart(i);
                    spaceEnd = text.AlignmentEnd(i);
                }
            }
            else
            {
                if (pendingSpace) w.Append(' ', spaceStart, spaceEnd);
                pendingSpace = false;
                any = true;
                w.AppendCodePoint(cp, text.AlignmentStart(i), text.AlignmentEnd(i));
            }
            i += len;
        }
        text.Commit(ref w);
    }
}
