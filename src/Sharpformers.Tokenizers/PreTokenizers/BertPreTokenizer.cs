using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// BERT's pre-tokenization: split on whitespace (dropped), then isolate every punctuation character
/// (ASCII punctuation or a P* category), as Hugging Face's <c>BertPreTokenizer</c>.
/// </summary>
public sealed class BertPreTokenizer : IPreTokenizer
{
    public BertPreTokenizer()
    {
    }

    /// <summary>
    /// Whitespace-delimited words kept whole, without punctuation splitting (the <c>never_split</c> option of
    /// the Python BertTokenizer).
    /// </summary>
    public BertPreTokenizer(IEnumerable<string> neverSplit)
    {
        NeverSplit = new HashSet<string>(neverSplit, StringComparer.Ordinal);
    }

    public IReadOnlySet<string>? NeverSplit { get; }

    public void PreTokenize(PreTokenizedString text) => text.SplitEach(SplitWord);

    private void SplitWord(int index, NormalizedString s, List<NormalizedString> output)
    {
        var span = s.Normalized;
        int wordStart = -1;
        for (int i = 0; i < span.Length;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            if (CharInfo.IsWhiteSpace(cp))
            {
                if (wordStart >= 0) EmitWord(s, wordStart, i, output);
                wordStart = -1;
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
            i += len;
        }
        if (wordStart >= 0) EmitWord(s, wordStart, span.Length, output);
    }

    private void EmitWord(NormalizedString s, int start, int end, List<NormalizedString> output)
    {
        var span = s.Normalized;
        if (NeverSplit is { Count: > 0 } && NeverSplit.Contains(new string(span[start..end])))
        {
            output.Add(s.Slice(start, end));
            return;
        }
        int pieceStart = start;
        for (int i = start; i < end;)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            if (CharInfo.IsBertPunctuation(cp))
            {
                if (pieceStart < i) output.Add(s.Slice(pieceStart, i));
                output.Add(s.Slice(i, i + len));
                pieceStart = i + len;
            }
            i += len;
        }
        if (pieceStart < end) output.Add(s.Slice(pieceStart, end));
    }
}
