using Sharpformers.Tokenizers.Text;

namespace Sharpformers.Tokenizers.PreTokenizers;

/// <summary>
/// GPT-2's pre-tokenization regex, written out by hand so it classifies every code point (including those
/// outside the Basic Multilingual Plane) the way the Python <c>regex</c> module and Oniguruma do:
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.
/// </summary>
public sealed class Gpt2Pattern : ISplitPattern
{
    public const string Source = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static readonly Gpt2Pattern Instance = new();

    private enum Kind
    {
        Space,
        Letter,
        Number,
        Other,
    }

    public void FindMatches(ReadOnlySpan<char> text, List<PatternMatch> output)
    {
        if (text.IsEmpty)
        {
            output.Add(new PatternMatch(0, 0, false));
            return;
        }
        int i = 0;
        while (i < text.Length)
        {
            int end = MatchAt(text, i);
            output.Add(new PatternMatch(i, end, true));
            i = end;
        }
    }

    /// <summary>The end of the regex match that starts at <paramref name="i"/> (one always does).</summary>
    private static int MatchAt(ReadOnlySpan<char> text, int i)
    {
        if (text[i] == '\'' && i + 1 < text.Length)
        {
            char a = text[i + 1];
            if (a is 's' or 't' or 'm' or 'd') return i + 2;
            if (i + 2 < text.Length)
            {
                char b = text[i + 2];
                if (a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l') return i + 3;
            }
        }
        var kind = KindAt(text, i, out int len);
        int start = i;
        if (text[i] == ' ' && i + 1 < text.Length)
        {
            var next = KindAt(text, i + 1, out int nextLen);
            if (next != Kind.Space) return RunEnd(text, i + 1 + nextLen, next);
        }
        if (kind != Kind.Space) return RunEnd(text, i + len, kind);
        // Whitespace: \s+(?!\S) keeps the last space for the next word when one follows; else \s+.
        int j = RunEnd(text, start + len, Kind.Space);
        if (j == text.Length) return j;
        int lastStart = j - 1;
        if (lastStart > start && char.IsLowSurrogate(text[lastStart]) && char.IsHighSurrogate(text[lastStart - 1])) lastStart--;
        return lastStart > start ? lastStart : j;
    }

    private static int RunEnd(ReadOnlySpan<char> text, int i, Kind kind)
    {
        while (i < text.Length)
        {
            if (KindAt(text, i, out int len) != kind) break;
            i += len;
        }
        return i;
    }

    private static Kind KindAt(ReadOnlySpan<char> text, int i, out int length)
    {
        char c = text[i];
        if (c < 0x80)
        {
            length = 1;
            if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') return Kind.Letter;
            if (c is >= '0' and <= '9') return Kind.Number;
            if (c is ' ' or >= '\t' and <= '\r') return Kind.Space;
            return Kind.Other;
        }
        int cp = CharInfo.CodePointAt(text, i, out length);
        if (CharInfo.IsWhiteSpace(cp)) return Kind.Space;
        if (CharInfo.IsLetter(cp)) return Kind.Letter;
        if (CharInfo.IsNumber(cp)) return Kind.Number;
        return Kind.Other;
    }
}
