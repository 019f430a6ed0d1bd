using System.Text.RegularExpressions;

namespace Sharpformers.Tokenizers.Text;

/// <summary>One piece of a string cut by a pattern: [Start, End) in UTF-16 units, and whether the pattern matched it.</summary>
public readonly record struct PatternMatch(int Start, int End, bool IsMatch);

/// <summary>
/// Something to split or replace on. <see cref="FindMatches"/> covers the whole input with consecutive
/// pieces, each flagged as a match or a gap, exactly like Hugging Face's <c>Pattern::find_matches</c>.
/// </summary>
public interface ISplitPattern
{
    /// <summary>Appends the pieces of <paramref name="text"/> to <paramref name="output"/> (one unmatched empty piece for empty text).</summary>
    void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output);
}

/// <summary>The pattern kinds a tokenizer.json can name: a literal string or a regular expression.</summary>
public abstract class SplitPattern : ISplitPattern
{
    /// <summary>The literal or regex source, as written in tokenizer.json.</summary>
    public abstract string Source { get; }

    /// <summary>True for <c>{"Regex": ...}</c>, false for <c>{"String": ...}</c>.</summary>
    public abstract bool IsRegex { get; }

    public static SplitPattern FromString(string literal) => new StringSplitPattern(literal);

    public static SplitPattern FromRegex(string regex) => new RegexSplitPattern(regex);

    public abstract void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output);
}

/// <summary>Every occurrence of a literal string, leftmost first, without overlap.</summary>
public sealed class StringSplitPattern(string literal) : SplitPattern
{
    public override string Source => literal;

    public override bool IsRegex => false;

    public override void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output)
    {
        if (text.IsEmpty)
        {
            output.Add(new PatternMatch(0, 0, false));
            return;
        }
        if (literal.Length == 0)
        {
            output.Add(new PatternMatch(0, text.Length, false));
            return;
        }
        int previous = 0;
        int from = 0;
        while (from <= text.Length - literal.Length)
        {
            int found = text[from..].IndexOf(literal.AsSpan(), StringComparison.Ordinal);
            if (found < 0) break;
            int start = from + found;
            if (previous < start) output.Add(new PatternMatch(previous, start, false));
            output.Add(new PatternMatch(start, start + literal.Length, true));
            previous = from = start + literal.Length;
        }
        if (previous < text.Length) output.Add(new PatternMatch(previous, text.Length, false));
    }
}

/// <summary>
/// A .NET regular expression standing in for the Oniguruma regex of the Rust library. Both define \s, \p{L}
/// and \p{N} the same way on the Basic Multilingual Plane; .NET classes see a supplementary character as
/// two surrogates, so a regex that must classify such characters should be hand-written (as the GPT-2
/// pattern of <see cref="PreTokenizers.ByteLevelPreTokenizer"/> is).
/// </summary>
public sealed class RegexSplitPattern : SplitPattern
{
    private readonly string source;
    private readonly Regex regex;

    public RegexSplitPattern(string source)
    {
        this.source = source;
        try
        {
            regex = new Regex(source, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"invalid regular expression '{source}': {e.Message}", nameof(source), e);
        }
    }

    public override string Source => source;

    public override bool IsRegex => true;

    public override void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output)
    {
        if (text.IsEmpty)
        {
            output.Add(new PatternMatch(0, 0, false));
            return;
        }
        int previous = 0;
        foreach (var m in regex.EnumerateMatches(text))
        {
            if (previous != m.Index) output.Add(new PatternMatch(previous, m.Index, false));
            output.Add(new PatternMatch(m.Index, m.Index + m.Length, true));
            previous = m.Index + m.Length;
        }
        if (previous != text.Length) output.Add(new PatternMatch(previous, text.Length, false));
    }
}

/// <summary>Each code point for which the predicate holds is its own match (Rust's <c>Fn(char) -&gt; bool</c> pattern).</summary>
public sealed class CharPredicatePattern(Func<int, bool> predicate) : ISplitPattern
{
    public void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output)
    {
        if (text.IsEmpty)
        {
            output.Add(new PatternMatch(0, 0, false));
            return;
        }
        int lastOffset = 0;
        int i = 0;
        while (i < text.Length)
        {
            int cp = CharInfo.CodePointAt(text, i, out int len);
            if (predicate(cp))
            {
                if (lastOffset < i) output.Add(new PatternMatch(lastOffset, i, false));
                output.Add(new PatternMatch(i, i + len, true));
                lastOffset = i + len;
            }
            i += len;
        }
        if (text.Length > lastOffset) output.Add(new PatternMatch(lastOffset, text.Length, false));
    }
}

/// <summary>Swaps matches and gaps of another pattern (the <c>invert</c> flag of the Split pre-tokenizer).</summary>
public sealed class InvertedPattern(ISplitPattern inner) : ISplitPattern
{
    public void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output)
    {
        int first = output.Count;
        inner.FindMatches(text, output);
        for (int i = first; i < output.Count; i++)
        {
            var m = output[i];
            output[i] = m with { IsMatch = !m.IsMatch };
        }
    }
}
