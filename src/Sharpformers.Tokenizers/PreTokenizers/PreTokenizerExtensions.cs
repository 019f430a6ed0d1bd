using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

public static class PreTokenizerExtensions
{
    /// <summary>
    /// Pre-tokenizes a string on its own (Hugging Face's <c>pre_tokenize_str</c>): the pieces and their
    /// [start, end) offsets in <paramref name="text"/>.
    /// </summary>
    public static IReadOnlyList<(string Piece, (int Start, int End) Offsets)> PreTokenizeString(this IPreTokenizer preTokenizer, string text)
    {
        var pre = new PreTokenizedString(text);
        preTokenizer.PreTokenize(pre);
        return pre.Splits.Select(s => (s.Normalized.ToString(), s.Normalized.ToOriginal(0, s.Normalized.Length))).ToList();
    }
}
