using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>When the Metaspace replacement is prepended to a split.</summary>
public enum PrependScheme
{
    /// <summary>To every split that does not already start with it.</summary>
    Always,

    /// <summary>Only to the split at the very start of the input.</summary>
    First,

    /// <summary>Never.</summary>
    Never,
}

/// <summary>
/// SentencePiece-style whitespace handling (Hugging Face's <c>Metaspace</c>): spaces become the replacement
/// character (default '▁'), the replacement is prepended per <see cref="PrependScheme"/>, and the text is cut
/// before each replacement when <see cref="SplitOnReplacement"/> is set.
/// </summary>
public sealed class MetaspacePreTokenizer : IPreTokenizer
{
    private static readonly StringSplitPattern Space = new(" ");
    private readonly string replacementString;
    private readonly CharPredicatePattern replacementPattern;

    public MetaspacePreTokenizer(char replacement = '▁', PrependScheme prependScheme = PrependScheme.Always, bool split = true)
    {
        Replacement = replacement;
        PrependScheme = prependScheme;
        SplitOnReplacement = split;
        replacementString = replacement.ToString();
        replacementPattern = new CharPredicatePattern(c => c == replacement);
    }

    public char Replacement { get; }

    public PrependScheme PrependScheme { get; }

    public bool SplitOnReplacement { get; }

    public void PreTokenize(PreTokenizedString text) => text.SplitEach((_, s, output) =>
    {
        s.Replace(Space, replacementString);
        bool startsWithReplacement = s.Length > 0 && s.Normalized[0] == Replacement;
        if (PrependScheme == PrependScheme.Always && !startsWithReplacement
            || PrependScheme == PrependScheme.First && !startsWithReplacement && s.OriginalOffsets.Start == 0)
        {
            s.Prepend(replacementString);
        }
        if (SplitOnReplacement) s.Split(replacementPattern, SplitDelimiterBehavior.MergedWithNext, output);
        else output.Add(s);
    });
}
