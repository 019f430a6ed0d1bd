using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// Splits numbers from the rest (Hugging Face's <c>Digits</c>): runs of digits stay together, or each digit
/// stands alone when <see cref="IndividualDigits"/> is set. "Call 123" gives ["Call ", "123"] or ["Call ", "1", "2", "3"].
/// </summary>
public sealed class DigitsPreTokenizer(bool individualDigits = false) : IPreTokenizer
{
    private static readonly CharPredicatePattern Numeric = new(CharInfo.IsNumber);

    public bool IndividualDigits => individualDigits;

    public void PreTokenize(PreTokenizedString text)
    {
        var behavior = individualDigits ? SplitDelimiterBehavior.Isolated : SplitDelimiterBehavior.Contiguous;
        text.SplitEach((_, s, output) => s.Split(Numeric, behavior, output));
    }
}
