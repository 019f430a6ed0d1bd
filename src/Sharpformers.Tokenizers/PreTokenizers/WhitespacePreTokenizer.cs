using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// Keeps the runs matched by <c>\w+|[^\w\s]+</c> and drops the whitespace between them (Hugging Face's
/// <c>Whitespace</c>): "Hello, world!" gives ["Hello", ",", "world", "!"].
/// </summary>
public sealed class WhitespacePreTokenizer : IPreTokenizer
{
    public void PreTokenize(PreTokenizedString text) => text.SplitEach(static (_, s, output) =>
    {
        var span = s.Normalized;
        int i = 0;
        while (i < span.Length)
        {
            int cp = CharInfo.CodePointAt(span, i, out int len);
            if (CharInfo.IsWhiteSpace(cp))
            {
                i += len;
                continue;
            }
            bool word = CharInfo.IsWordChar(cp);
            int start = i;
            i += len;
            while (i < span.Length)
            {
                int next = CharInfo.CodePointAt(span, i, out int nextLen);
                if (CharInfo.IsWhiteSpace(next) || CharInfo.IsWordChar(next) != word) break;
                i += nextLen;
            }
            output.Add(s.Slice(start, i));
        }
    });
}
