using Sharpformers.Tokenizers.PreTokenizers;
using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>Each pre-tokenizer: pieces and their offsets in the original text (HF's pre_tokenize_str).</summary>
public sealed class PreTokenizerTests
{
    private static (string, (int, int))[] Run(IPreTokenizer p, string text) => p.PreTokenizeString(text).ToArray();

    private const string CourseText = "Hello, how are  you?";

    [Fact]
    public void BertSplitsOnWhitespaceAndPunctuation()
    {
        // Hugging Face course, chapter 6 (bert-base-uncased).
        Assert.Equal(
            [("Hello", (0, 5)), (",", (5, 6)), ("how", (7, 10)), ("are", (11, 14)), ("you", (16, 19)), ("?", (19, 20))],
            Run(new BertPreTokenizer(), CourseText));
        Assert.Equal([("[", (0, 1)), ("x", (1, 2)), ("]", (2, 3)), ("$", (4, 5)), ("5", (5, 6))], Run(new BertPreTokenizer(), "[x] $5"));
        Assert.Equal([("[x]", (0, 3)), ("a", (4, 5)), (".", (5, 6))], Run(new BertPreTokenizer(["[x]"]), "[x] a."));
    }

    [Fact]
    public void ByteLevelAsGpt2()
    {
        // Hugging Face course, chapter 6 (gpt2): spaces kept as Ġ, two spaces give a lone Ġ.
        Assert.Equal(
            [("Hello", (0, 5)), (",", (5, 6)), ("Ġhow", (6, 10)), ("Ġare", (10, 14)), ("Ġ", (14, 15)), ("Ġyou", (15, 19)), ("?", (19, 20))],
            Run(new ByteLevelPreTokenizer(addPrefixSpace: false), CourseText));
        Assert.Equal([("ĠHi", (0, 2))], Run(new ByteLevelPreTokenizer(addPrefixSpace: true), "Hi"));
        Assert.Equal([("'s", (0, 2)), ("ĠcafÃ©", (2, 7)), ("Ċ", (7, 8))], Run(new ByteLevelPreTokenizer(false), "'s café\n"));
        Assert.Equal([("12", (0, 2)), ("ĠĠ", (2, 4))], Run(new ByteLevelPreTokenizer(false), "12  "));
        Assert.Equal([("12", (0, 2)), ("Ġ", (2, 3)), ("Ġx", (3, 5))], Run(new ByteLevelPreTokenizer(false), "12  x"));
        Assert.Equal([("ðŁĺĢ", (0, 2))], Run(new ByteLevelPreTokenizer(false), "😀"));
    }

    [Fact]
    public void ByteLevelWithoutRegexKeepsOnePiece()
    {
        Assert.Equal([("aĠb", (0, 3))], Run(new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false), "a b"));
    }

    [Fact]
    public void MetaspaceAsT5()
    {
        // Hugging Face course, chapter 6 (t5-small): "▁" replaces spaces and starts each piece.
        Assert.Equal(
            [("▁Hello,", (0, 6)), ("▁how", (6, 10)), ("▁are", (10, 14)), ("▁", (14, 15)), ("▁you?", (15, 20))],
            Run(new MetaspacePreTokenizer(), CourseText));
        Assert.Equal([("Hello▁world", (0, 11))], Run(new MetaspacePreTokenizer(prependScheme: PrependScheme.Never, split: false), "Hello world"));
        var first = new PreTokenizedString("a b");
        new MetaspacePreTokenizer(prependScheme: PrependScheme.First).PreTokenize(first);
        Assert.Equal(["▁a", "▁b"], first.Splits.Select(s => s.Normalized.ToString()));
    }

    [Fact]
    public void WhitespaceAndWhitespaceSplit()
    {
        Assert.Equal([("Hello", (0, 5)), (",", (5, 6)), ("how", (7, 10)), ("are", (11, 14)), ("you", (16, 19)), ("?", (19, 20))],
            Run(new WhitespacePreTokenizer(), CourseText));
        Assert.Equal([("Hello,", (0, 6)), ("how", (7, 10)), ("are", (11, 14)), ("you?", (16, 20))], Run(new WhitespaceSplitPreTokenizer(), CourseText));
        Assert.Equal([("don", (0, 3)), ("'", (3, 4)), ("t", (4, 5)), ("!!", (6, 8))], Run(new WhitespacePreTokenizer(), "don't !!"));
    }

    [Fact]
    public void PunctuationBehaviors()
    {
        Assert.Equal([("Hey", (0, 3)), ("!", (3, 4)), ("!", (4, 5)), (" you", (5, 9))], Run(new PunctuationPreTokenizer(), "Hey!! you"));
        Assert.Equal([("Hey", (0, 3)), ("!!", (3, 5)), (" you", (5, 9))], Run(new PunctuationPreTokenizer(SplitDelimiterBehavior.Contiguous), "Hey!! you"));
        Assert.Equal([("Hey!", (0, 4)), ("!", (4, 5)), (" you", (5, 9))], Run(new PunctuationPreTokenizer(SplitDelimiterBehavior.MergedWithPrevious), "Hey!! you"));
    }

    [Fact]
    public void DigitsTogetherOrAlone()
    {
        Assert.Equal([("Call ", (0, 5)), ("123", (5, 8)), (" now", (8, 12))], Run(new DigitsPreTokenizer(), "Call 123 now"));
        Assert.Equal([("Call ", (0, 5)), ("1", (5, 6)), ("2", (6, 7)), ("3", (7, 8))], Run(new DigitsPreTokenizer(individualDigits: true), "Call 123"));
    }

    [Theory]
    [InlineData(SplitDelimiterBehavior.Removed, new[] { "the", "final", "countdown" })]
    [InlineData(SplitDelimiterBehavior.Isolated, new[] { "the", "-", "final", "-", "-", "countdown" })]
    [InlineData(SplitDelimiterBehavior.MergedWithPrevious, new[] { "the-", "final-", "-", "countdown" })]
    [InlineData(SplitDelimiterBehavior.MergedWithNext, new[] { "the", "-final", "-", "-countdown" })]
    [InlineData(SplitDelimiterBehavior.Contiguous, new[] { "the", "-", "final", "--", "countdown" })]
    public void SplitBehaviorsOnTheDocumentationExample(SplitDelimiterBehavior behavior, string[] expected)
    {
        // The example of Hugging Face's SplitDelimiterBehavior documentation.
        Assert.Equal(expected, Run(new SplitPreTokenizer(SplitPattern.FromString("-"), behavior), "the-final--countdown").Select(p => p.Item1));
        Assert.Equal(expected, Run(new SplitPreTokenizer(SplitPattern.FromRegex("-"), behavior), "the-final--countdown").Select(p => p.Item1));
    }

    [Fact]
    public void SplitInvertedKeepsTheMatches()
    {
        var split = new SplitPreTokenizer(SplitPattern.FromRegex(@"\d+"), SplitDelimiterBehavior.Removed, invert: true);
        Assert.Equal([("12", (2, 4)), ("345", (6, 9))], Run(split, "ab12cd345"));
    }

    [Fact]
    public void SequenceAndCharDelimiter()
    {
        var sequence = new SequencePreTokenizer([new WhitespaceSplitPreTokenizer(), new DigitsPreTokenizer(true)]);
        Assert.Equal([("a", (0, 1)), ("1", (1, 2)), ("2", (2, 3)), ("b", (4, 5))], Run(sequence, "a12 b"));
        Assert.Equal([("a", (0, 1)), ("b c", (2, 5))], Run(new CharDelimiterSplitPreTokenizer('|'), "a|b c"));
    }

    [Fact]
    public void Gpt2PatternClassifiesSupplementaryLetters()
    {
        // 𝐀 (U+1D400) is a letter outside the BMP: it stays with the letters around it; " 😀!" are all "other".
        var pieces = new List<PatternMatch>();
        Gpt2Pattern.Instance.FindMatches("a\U0001D400b 😀!", pieces);
        Assert.Equal([(0, 4), (4, 8)], pieces.Select(p => (p.Start, p.End)));
    }
}
