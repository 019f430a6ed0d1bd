using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>Splits on whitespace and drops it (Hugging Face's <c>WhitespaceSplit</c>).</summary>
public sealed class WhitespaceSplitPreTokenizer : IPreTokenizer
{
    private static readonly CharPredicatePattern Whitespace = new(CharInfo.IsWhiteSpace);

    public void PreTokenize(PreTokenizedString text) =>
        text.SplitEach(static (_, s, output) => s.Split(Whitespace, SplitDelimiterBehavior.Removed, output));
}
