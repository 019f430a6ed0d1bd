using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>Splits on punctuation characters, handling them as <see cref="Behavior"/> says (Hugging Face's <c>Punctuation</c>).</summary>
public sealed class PunctuationPreTokenizer(SplitDelimiterBehavior behavior = SplitDelimiterBehavior.Isolated) : IPreTokenizer
{
    private static readonly CharPredicatePattern Punctuation = new(CharInfo.IsBertPunctuation);

    public SplitDelimiterBehavior Behavior => behavior;

    public void PreTokenize(PreTokenizedString text) =>
        text.SplitEach((_, s, output) => s.Split(Punctuation, behavior, output));
}
