using System.Text;

namespace Sharpformers.Tokenizers.Text;

/// <summary>What happens to the delimiters when a string is split (Hugging Face's <c>SplitDelimiterBehavior</c>).</summary>
public enum SplitDelimiterBehavior
{
    /// <summary>"the-final--countdown" on '-' gives ["the", "final", "countdown"].</summary>
    Removed,

    /// <summary>Gives ["the", "-", "final", "-", "-", "countdown"].</summary>
    Isolated,

    /// <summary>Gives ["the-", "final-", "-", "countdown"].</summary>
    MergedWithPrevious,

    /// <summary>Gives ["the", "-final", "-", "-countdown"].</summary>
    MergedWithNext,

    /// <summary>Gives ["the", "-", "final", "--", "countdown"].</summary>
    Contiguous,
}

/// <summary>
/// A piece of text being normalized that remembers, for every UTF-16 unit of the normalized text, the range of
/// the ORIGINAL input it came from, so token offsets always point into the caller's string. This mirrors
/// Hugging Face's <c>NormalizedString</c>, with UTF-16 offsets (what .NET strings index) instead of bytes.
/// Alignments are absolute offsets into the complete input, so slices need no shift bookkeeping.
/// </summary>
public sealed class NormalizedString
{
    private char[] chars;
    private int[] starts;
    private int[] ends;
    private int length;
    private readonly int originalStart;
    private readonly int originalEnd;

    /// <summary>A normalized string equal to <paramref name="original"/>, aligned one to one.</summary>
    public NormalizedString(string original)
        : this(original.AsSpan(), 0)
    {
    }

    /// <summary>
    /// A normalized string equal to <paramref name="original"/>, which lies at <paramref name="originalOffset"/>
    /// inside the complete input the offsets refer to.
    /// </summary>
    public NormalizedString(ReadOnlySpan<char> original, int originalOffset)
    {
        length = original.Length;
        chars = original.ToArray();
        starts = new int[length];
        ends = new int[length];
        for (int i = 0; i < length; i++)
        {
            int len = char.IsHighSurrogate(original[i]) && i + 1 < length && char.IsLowSurrogate(original[i + 1]) ? 2 : 1;
            for (int k = 0; k < len; k++)
            {
                starts[i + k] = originalOffset + i;
                ends[i + k] = originalOffset + i + len;
            }
            i += len - 1;
        }
        originalStart = originalOffset;
        originalEnd = originalOffset + original.Length;
    }

    private NormalizedString(char[] chars, int[] starts, int[] ends, int length, int originalStart, int originalEnd)
    {
        this.chars = chars;
        this.starts = starts;
        this.ends = ends;
        this.length = length;
        this.originalStart = originalStart;
        this.originalEnd = originalEnd;
    }

    /// <summary>The normalized text.</summary>
    public ReadOnlySpan<char> Normalized => chars.AsSpan(0, length);

    /// <summary>Length of the normalized text in UTF-16 units.</summary>
    public int Length => length;

    public bool IsEmpty => length == 0;

    /// <summary>The range of the original input this string covers.</summary>
    public (int Start, int End) OriginalOffsets => (originalStart, originalEnd);

    /// <summary>Original offset where the normalized unit <paramref name="index"/> begins.</summary>
    public int AlignmentStart(int index) => starts[index];

    /// <summary>Original offset where the normalized unit <paramref name="index"/> ends.</summary>
    public int AlignmentEnd(int index) => ends[index];

    public override string ToString() => new(Normalized);

    /// <summary>
    /// Maps a normalized range to the original input: from the start of its first unit to the end of its last
    /// (Hugging Face's <c>convert_offsets(Range::Normalized)</c>). An empty range maps to an empty range at
    /// the corresponding position.
    /// </summary>
    public (int Start, int End) ToOriginal(int normalizedStart, int normalizedEnd)
    {
        if (normalizedStart >= normalizedEnd)
        {
            int at = normalizedStart < length ? starts[normalizedStart] : (length > 0 ? ends[length - 1] : originalStart);
            return (at, at);
        }
        return (starts[normalizedStart], ends[normalizedEnd - 1]);
    }

    /// <summary>A copy of the normalized range [start, end) with its alignments.</summary>
    public NormalizedString Slice(int start, int end)
    {
        int n = end - start;
        var (oStart, oEnd) = n > 0 ? (starts[start], ends[end - 1]) : ToOriginal(start, start);
        return new NormalizedString(
            chars.AsSpan(start, n).ToArray(), starts.AsSpan(start, n).ToArray(), ends.AsSpan(start, n).ToArray(),
            n, oStart, oEnd);
    }

    /// <summary>Starts a rewrite of this string; finish it with <see cref="Commit"/>.</summary>
    internal Rewriter BeginRewrite(int capacityHint = -1) => new(capacityHint < 0 ? length + 8 : capacityHint);

    /// <summary>Replaces the content with what <paramref name="rewriter"/> built.</summary>
    internal void Commit(ref Rewriter rewriter)
    {
        chars = rewriter.Chars;
        starts = rewriter.Starts;
        ends = rewriter.Ends;
        length = rewriter.Length;
    }

    /// <summary>The alignment a character inserted before normalized position <paramref name="index"/> takes (HF: the previous unit's).</summary>
    internal (int Start, int End) InsertedAlignment(int index) =>
        index > 0 ? (starts[index - 1], ends[index - 1]) : (originalStart, originalStart);

    /// <summary>Keeps the code points for which <paramref name="keep"/> holds; each keeps its own alignment.</summary>
    public void Filter(Func<int, bool> keep)
    {
        var w = BeginRewrite(length);
        for (int i = 0; i < length;)
        {
            int cp = CharInfo.CodePointAt(Normalized, i, out int len);
            if (keep(cp)) w.AppendCodePoint(cp, starts[i], ends[i]);
            i += len;
        }
        Commit(ref w);
    }

    /// <summary>Maps every code point to another one in place of it.</summary>
    public void Map(Func<int, int> map)
    {
        var w = BeginRewrite(length);
        for (int i = 0; i < length;)
        {
            int cp = CharInfo.CodePointAt(Normalized, i, out int len);
            w.AppendCodePoint(map(cp), starts[i], ends[i]);
            i += len;
        }
        Commit(ref w);
    }

    /// <summary>Lowercases each code point independently (Rust's <c>char::to_lowercase</c>, Python's <c>str.lower</c> per character).</summary>
    public void Lowercase()
    {
        var text = Normalized;
        bool ascii = true;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] >= 0x80)
            {
                ascii = false;
                break;
            }
        }
        if (ascii)
        {
            for (int i = 0; i < length; i++)
            {
                char c = chars[i];
                if (c is >= 'A' and <= 'Z') chars[i] = (char)(c + 32);
            }
            return;
        }
        var w = BeginRewrite(length + 4);
        for (int i = 0; i < length;)
        {
            int cp = CharInfo.CodePointAt(Normalized, i, out int len);
            int lower = CharInfo.Lower(cp, out int second);
            w.AppendCodePoint(lower, starts[i], ends[i]);
            if (second >= 0) w.AppendCodePoint(second, starts[i], ends[i]);
            i += len;
        }
        Commit(ref w);
    }

    /// <summary>Applies a Unicode normalization form while keeping the alignments (see <see cref="UnicodeNormalization"/>).</summary>
    public void Normalize(NormalizationForm form) => UnicodeNormalization.Apply(this, form);

    /// <summary>Prepends <paramref name="prefix"/>; the new characters align with the first character (no-op on empty strings, as in HF).</summary>
    public void Prepend(string prefix)
    {
        if (length == 0 || prefix.Length == 0) return;
        var w = BeginRewrite(length + prefix.Length);
        int s = starts[0], e = ends[0];
        foreach (char c in prefix) w.Append(c, s, e);
        w.AppendRange(chars, starts, ends, 0, length);
        Commit(ref w);
    }

    /// <summary>Appends <paramref name="suffix"/>; the new characters align with the last character (no-op on empty strings).</summary>
    public void Append(string suffix)
    {
        if (length == 0 || suffix.Length == 0) return;
        var w = BeginRewrite(length + suffix.Length);
        w.AppendRange(chars, starts, ends, 0, length);
        int s = starts[length - 1], e = ends[length - 1];
        foreach (char c in suffix) w.Append(c, s, e);
        Commit(ref w);
    }

    /// <summary>
    /// Replaces every match of <paramref name="pattern"/> with <paramref name="content"/>. The k-th new code point
    /// takes the alignment of the k-th replaced one; extra new code points take the last replaced one's.
    /// </summary>
    public void Replace(ISplitPattern pattern, string content)
    {
        var matches = new List<PatternMatch>();
        pattern.FindMatches(Normalized, matches);
        if (!matches.Exists(m => m.IsMatch && m.End > m.Start)) return;
        var w = BeginRewrite(length + content.Length);
        var text = Normalized;
        foreach (var m in matches)
        {
            if (!m.IsMatch || m.End == m.Start)
            {
                w.AppendRange(chars, starts, ends, m.Start, m.End);
                continue;
            }
            // Source code points of the match, in order.
            int src = m.Start;
            int lastStart = starts[m.Start], lastEnd = ends[m.Start];
            for (int k = 0; k < content.Length;)
            {
                int cp = CharInfo.CodePointAt(content, k, out int len);
                if (src < m.End)
                {
                    CharInfo.CodePointAt(text, src, out int srcLen);
                    lastStart = starts[src];
                    lastEnd = ends[src];
                    src += srcLen;
                }
                w.AppendCodePoint(cp, lastStart, lastEnd);
                k += len;
            }
        }
        Commit(ref w);
    }

    /// <summary>Removes leading and/or trailing White_Space characters.</summary>
    public void Strip(bool left, bool right)
    {
        int first = 0, last = length;
        if (left)
        {
            while (first < last)
            {
                int cp = CharInfo.CodePointAt(Normalized, first, out int len);
                if (!CharInfo.IsWhiteSpace(cp)) break;
                first += len;
            }
        }
        if (right)
        {
            while (last > first)
            {
                int at = last - 1;
                if (char.IsLowSurrogate(chars[at]) && at > first && char.IsHighSurrogate(chars[at - 1])) at--;
                int cp = CharInfo.CodePointAt(Normalized, at, out _);
                if (!CharInfo.IsWhiteSpace(cp)) break;
                last = at;
            }
        }
        if (first == 0 && last == length) return;
        var w = BeginRewrite(last - first);
        w.AppendRange(chars, starts, ends, first, last);
        Commit(ref w);
    }

    /// <summary>Empties the normalized text.</summary>
    public void Clear() => length = 0;

    /// <summary>Splits on <paramref name="pattern"/>, handling the delimiters as <paramref name="behavior"/> says.</summary>
    public void Split(ISplitPattern pattern, SplitDelimiterBehavior behavior, List<NormalizedString> output)
    {
        var matches = new List<PatternMatch>();
        pattern.FindMatches(Normalized, matches);
        var pieces = ApplyBehavior(matches, behavior);
        foreach (var (start, end, remove) in pieces)
        {
            if (!remove) output.Add(Slice(start, end));
        }
    }

    /// <summary>Turns pattern matches into (start, end, remove) pieces per <paramref name="behavior"/> (HF's <c>split</c>).</summary>
    internal static List<(int Start, int End, bool Remove)> ApplyBehavior(List<PatternMatch> matches, SplitDelimiterBehavior behavior)
    {
        var result = new List<(int Start, int End, bool Remove)>(matches.Count);
        switch (behavior)
        {
            case SplitDelimiterBehavior.Isolated:
                foreach (var m in matches) result.Add((m.Start, m.End, false));
                break;
            case SplitDelimiterBehavior.Removed:
                foreach (var m in matches) result.Add((m.Start, m.End, m.IsMatch));
                break;
            case SplitDelimiterBehavior.Contiguous:
            {
                bool previousMatch = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch == previousMatch && result.Count > 0)
                    {
                        var last = result[^1];
                        result[^1] = (last.Start, m.End, false);
                    }
                    else
                    {
                        result.Add((m.Start, m.End, false));
                    }
                    previousMatch = m.IsMatch;
                }
                break;
            }
            case SplitDelimiterBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var m in matches)
                {
                    if (m.IsMatch && !previousMatch && result.Count > 0)
                    {
                        var last = result[^1];
                        result[^1] = (last.Start, m.End, false);
                    }
                    else
                    {
                        result.Add((m.Start, m.End, false));
                    }
                    previousMatch = m.IsMatch;
                }
                break;
            }
            case SplitDelimiterBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = matches.Count - 1; i >= 0; i--)
                {
                    var m = matches[i];
                    if (m.IsMatch && !previousMatch && result.Count > 0)
                    {
                        var last = result[^1];
                        result[^1] = (m.Start, last.End, false);
                    }
                    else
                    {
                        result.Add((m.Start, m.End, false));
                    }
                    previousMatch = m.IsMatch;
                }
                result.Reverse();
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(behavior), behavior, "unknown split behavior");
        }
        return result;
    }

    /// <summary>Builds the replacement content of a normalized string, one UTF-16 unit and alignment at a time.</summary>
    internal struct Rewriter
    {
        public char[] Chars;
        public int[] Starts;
        public int[] Ends;
        public int Length;

        public Rewriter(int capacity)
        {
            capacity = Math.Max(capacity, 4);
            Chars = new char[capacity];
            Starts = new int[capacity];
            Ends = new int[capacity];
            Length = 0;
        }

        public void Append(char c, int alignStart, int alignEnd)
        {
            if (Length == Chars.Length) Grow(Length + 1);
            Chars[Length] = c;
            Starts[Length] = alignStart;
            Ends[Length] = alignEnd;
            Length++;
        }

        public void AppendCodePoint(int cp, int alignStart, int alignEnd)
        {
            if (cp < 0x10000)
            {
                Append((char)cp, alignStart, alignEnd);
                return;
            }
            cp -= 0x10000;
            Append((char)(0xD800 + (cp >> 10)), alignStart, alignEnd);
            Append((char)(0xDC00 + (cp & 0x3FF)), alignStart, alignEnd);
        }

        public void AppendRange(char[] sourceChars, int[] sourceStarts, int[] sourceEnds, int from, int to)
        {
            int n = to - from;
            if (n <= 0) return;
            if (Length + n > Chars.Length) Grow(Length + n);
            Array.Copy(sourceChars, from, Chars, Length, n);
            Array.Copy(sourceStarts, from, Starts, Length, n);
            Array.Copy(sourceEnds, from, Ends, Length, n);
            Length += n;
        }

        private void Grow(int needed)
        {
            int size = Math.Max(needed, Chars.Length * 2);
            Array.Resize(ref Chars, size);
            Array.Resize(ref Starts, size);
            Array.Resize(ref Ends, size);
        }
    }
}
