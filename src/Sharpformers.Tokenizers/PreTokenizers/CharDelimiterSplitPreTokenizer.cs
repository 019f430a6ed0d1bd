using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>Splits on one delimiter character and drops it (Hugging Face's <c>CharDelimiterSplit</c>).</summary>
public sealed class CharDelimiterSplitPreTokenizer(char delimiter) : IPreTokenizer
{
    private readonly CharPredicatePattern pattern = new(c => c == delimiter);

    public char Delimiter => delimiter;

    public void PreTokenize(PreTokenizedString text) =>
        text.SplitEach((_, s, output) => s.Split(pattern, SplitDelimiterBehavior.Removed, output));
}
