using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// Splits on a string or regex pattern with any delimiter behavior, optionally inverted so the matches are
/// the pieces to keep (Hugging Face's <c>Split</c>).
/// </summary>
public sealed class SplitPreTokenizer : IPreTokenizer
{
    private readonly ISplitPattern effective;

    public SplitPreTokenizer(SplitPattern pattern, SplitDelimiterBehavior behavior, bool invert = false)
    {
        Pattern = pattern;
        Behavior = behavior;
        Invert = invert;
        effective = invert ? new InvertedPattern(pattern) : pattern;
    }

    public SplitPattern Pattern { get; }

    public SplitDelimiterBehavior Behavior { get; }

    public bool Invert { get; }

    public void PreTokenize(PreTokenizedString text) =>
        text.SplitEach((_, s, output) => s.Split(effective, Behavior, output));
}
