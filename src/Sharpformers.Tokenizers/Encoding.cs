namespace Sharpformers.Tokenizers;

/// <summary>Which end of a sequence truncation or padding acts on.</summary>
public enum Side
{
    Right,
    Left,
}

/// <summary>
/// One encoded sequence (or pair of sequences), as Hugging Face's <c>tokenizers.Encoding</c>: ids, token type
/// ids, token strings, offsets into the original text, word and sequence indices, masks, and the overflowing
/// windows produced by truncation with <c>return_overflowing_tokens</c>.
/// </summary>
public sealed class Encoding
{
    private static readonly Encoding[] NoOverflow = [];

    internal Encoding(int[] ids, int[] typeIds, string[] tokens, (int Start, int End)[] offsets, int[] wordIds,
        int[] sequenceIds, int[] specialTokensMask, int[] attentionMask)
    {
        Ids = ids;
        TypeIds = typeIds;
        Tokens = tokens;
        Offsets = offsets;
        WordIdArray = wordIds;
        SequenceIdArray = sequenceIds;
        SpecialTokensMask = specialTokensMask;
        AttentionMask = attentionMask;
    }

    /// <summary>An encoding without tokens.</summary>
    public static Encoding Empty => new([], [], [], [], [], [], [], []);

    public int[] Ids { get; internal set; }

    public int[] TypeIds { get; internal set; }

    /// <summary>The token strings (for vocab-file SentencePiece tokenizers, the pieces as the model produced them).</summary>
    public string[] Tokens { get; internal set; }

    /// <summary>[Start, End) of each token in the original text, in UTF-16 units; (0, 0) for special and pad tokens.</summary>
    public (int Start, int End)[] Offsets { get; internal set; }

    public int[] SpecialTokensMask { get; internal set; }

    public int[] AttentionMask { get; internal set; }

    /// <summary>Word index of each token; -1 for special and pad tokens (HF: None).</summary>
    internal int[] WordIdArray { get; set; }

    /// <summary>Sequence index (0 or 1) of each token; -1 for special and pad tokens.</summary>
    internal int[] SequenceIdArray { get; set; }

    /// <summary>Word index of each token, null for special and pad tokens (HF's <c>word_ids</c>).</summary>
    public IReadOnlyList<int?> WordIds => new NullableView(WordIdArray);

    /// <summary>Which input sequence each token came from (0 or 1), null for special and pad tokens.</summary>
    public IReadOnlyList<int?> SequenceIds => new NullableView(SequenceIdArray);

    /// <summary>Windows cut off by truncation when overflowing tokens were requested.</summary>
    public IReadOnlyList<Encoding> Overflowing { get; internal set; } = NoOverflow;

    public int Length => Ids.Length;

    /// <summary>Number of input sequences (1 or 2) this encoding holds tokens of.</summary>
    public int SequenceCount
    {
        get
        {
            int max = -1;
            foreach (int s in SequenceIdArray) max = Math.Max(max, s);
            return max + 1;
        }
    }

    /// <summary>The token indices [start, end) of a word of the given sequence, or null if no token belongs to it.</summary>
    public (int Start, int End)? WordToTokens(int word, int sequenceIndex = 0)
    {
        int start = -1, end = -1;
        for (int i = 0; i < Length; i++)
        {
            if (WordIdArray[i] == word && SequenceIdArray[i] == sequenceIndex)
            {
                if (start < 0) start = i;
                end = i + 1;
            }
        }
        return start < 0 ? null : (start, end);
    }

    /// <summary>The character range of a word of the given sequence in its original text.</summary>
    public (int Start, int End)? WordToChars(int word, int sequenceIndex = 0)
    {
        var tokens = WordToTokens(word, sequenceIndex);
        if (tokens is null) return null;
        return (Offsets[tokens.Value.Start].Start, Offsets[tokens.Value.End - 1].End);
    }

    /// <summary>The index of the token covering character <paramref name="charIndex"/> of the given sequence.</summary>
    public int? CharToToken(int charIndex, int sequenceIndex = 0)
    {
        for (int i = 0; i < Length; i++)
        {
            if (SequenceIdArray[i] != sequenceIndex || SpecialTokensMask[i] == 1) continue;
            var (s, e) = Offsets[i];
            if (charIndex >= s && charIndex < e) return i;
        }
        return null;
    }

    /// <summary>The word containing character <paramref name="charIndex"/> of the given sequence.</summary>
    public int? CharToWord(int charIndex, int sequenceIndex = 0)
    {
        int? token = CharToToken(charIndex, sequenceIndex);
        return token is null || WordIdArray[token.Value] < 0 ? null : WordIdArray[token.Value];
    }

    /// <summary>The character range of a token in its original text (null for special tokens).</summary>
    public (int Start, int End)? TokenToChars(int tokenIndex) =>
        SequenceIdArray[tokenIndex] < 0 ? null : Offsets[tokenIndex];

    /// <summary>The word of a token (null for special tokens).</summary>
    public int? TokenToWord(int tokenIndex) => WordIdArray[tokenIndex] < 0 ? null : WordIdArray[tokenIndex];

    /// <summary>The sequence (0 or 1) of a token (null for special tokens).</summary>
    public int? TokenToSequence(int tokenIndex) => SequenceIdArray[tokenIndex] < 0 ? null : SequenceIdArray[tokenIndex];

    internal Encoding Clone() => new(
        (int[])Ids.Clone(), (int[])TypeIds.Clone(), (string[])Tokens.Clone(), ((int, int)[])Offsets.Clone(),
        (int[])WordIdArray.Clone(), (int[])SequenceIdArray.Clone(), (int[])SpecialTokensMask.Clone(),
        (int[])AttentionMask.Clone())
    { Overflowing = Overflowing };

    /// <summary>The tokens [start, end) as a new encoding (without overflow).</summary>
    internal Encoding Range(int start, int end) => new(
        Ids[start..end], TypeIds[start..end], Tokens[start..end], Offsets[start..end], WordIdArray[start..end],
        SequenceIdArray[start..end], SpecialTokensMask[start..end], AttentionMask[start..end]);

    /// <summary>Concatenates encodings (no overflow handling; see <see cref="Merge"/>).</summary>
    internal static Encoding Concat(IReadOnlyList<Encoding> parts)
    {
        int n = 0;
        foreach (var p in parts) n += p.Length;
        var result = new Encoding(new int[n], new int[n], new string[n], new (int, int)[n], new int[n], new int[n],
            new int[n], new int[n]);
        int at = 0;
        foreach (var p in parts)
        {
            p.Ids.CopyTo(result.Ids, at);
            p.TypeIds.CopyTo(result.TypeIds, at);
            p.Tokens.CopyTo(result.Tokens, at);
            p.Offsets.CopyTo(result.Offsets, at);
            p.WordIdArray.CopyTo(result.WordIdArray, at);
            p.SequenceIdArray.CopyTo(result.SequenceIdArray, at);
            p.SpecialTokensMask.CopyTo(result.SpecialTokensMask, at);
            p.AttentionMask.CopyTo(result.AttentionMask, at);
            at += p.Length;
        }
        return result;
    }

    /// <summary>Sets every token's sequence index (tokens that are not special).</summary>
    internal void SetSequenceId(int sequence)
    {
        for (int i = 0; i < SequenceIdArray.Length; i++) SequenceIdArray[i] = sequence;
        foreach (var o in Overflowing) o.SetSequenceId(sequence);
    }

    /// <summary>Sets every token's type id.</summary>
    internal void SetTypeIds(int typeId)
    {
        Array.Fill(TypeIds, typeId);
        foreach (var o in Overflowing) o.SetTypeIds(typeId);
    }

    /// <summary>
    /// Cuts the encoding to <paramref name="maxLength"/> tokens; the rest goes into <see cref="Overflowing"/> as
    /// windows of <paramref name="maxLength"/> tokens that overlap by <paramref name="stride"/> (HF's
    /// <c>Encoding::truncate</c>).
    /// </summary>
    internal void Truncate(int maxLength, int stride, Side direction, bool keepOverflow = true)
    {
        int n = Length;
        if (maxLength >= n) return;
        if (!keepOverflow)
        {
            ReplaceWith(direction == Side.Right ? Range(0, maxLength) : Range(n - maxLength, n));
            Overflowing = NoOverflow;
            return;
        }
        if (maxLength == 0)
        {
            var all = Clone();
            all.Overflowing = NoOverflow;
            ReplaceWith(Empty);
            Overflowing = [all];
            return;
        }
        if (stride >= maxLength)
        {
            throw new ArgumentException(
                $"stride ({stride}) must be smaller than the length left for the sequence after truncation ({maxLength}); "
                + "the special tokens count against max_length");
        }
        int step = maxLength - stride;
        var parts = new List<(int Start, int Stop)>();
        if (direction == Side.Right)
        {
            for (int start = 0; start < n; start += step)
            {
                int stop = Math.Min(start + maxLength, n);
                parts.Add((start, stop));
                if (stop == n) break;
            }
        }
        else
        {
            for (int last = n - 1; last >= 0; last -= step)
            {
                int stop = last + 1;
                int start = stop < maxLength ? 0 : stop - maxLength;
                parts.Add((start, stop));
                if (start == 0) break;
            }
        }
        var overflow = new List<Encoding>(parts.Count - 1);
        for (int i = 1; i < parts.Count; i++) overflow.Add(Range(parts[i].Start, parts[i].Stop));
        var main = Range(parts[0].Start, parts[0].Stop);
        ReplaceWith(main);
        Overflowing = overflow;
    }

    private void ReplaceWith(Encoding other)
    {
        Ids = other.Ids;
        TypeIds = other.TypeIds;
        Tokens = other.Tokens;
        Offsets = other.Offsets;
        WordIdArray = other.WordIdArray;
        SequenceIdArray = other.SequenceIdArray;
        SpecialTokensMask = other.SpecialTokensMask;
        AttentionMask = other.AttentionMask;
    }

    /// <summary>Pads to <paramref name="targetLength"/> on <paramref name="side"/> (not the overflowing windows, which are rows of their own).</summary>
    internal void Pad(int targetLength, int padId, int padTypeId, string padToken, Side side)
    {
        int n = Length;
        if (n >= targetLength) return;
        int extra = targetLength - n;
        int offset = side == Side.Left ? extra : 0;
        int padAt = side == Side.Left ? 0 : n;
        Ids = Grow(Ids, targetLength, offset, padAt, extra, padId);
        TypeIds = Grow(TypeIds, targetLength, offset, padAt, extra, padTypeId);
        WordIdArray = Grow(WordIdArray, targetLength, offset, padAt, extra, -1);
        SequenceIdArray = Grow(SequenceIdArray, targetLength, offset, padAt, extra, -1);
        SpecialTokensMask = Grow(SpecialTokensMask, targetLength, offset, padAt, extra, 1);
        AttentionMask = Grow(AttentionMask, targetLength, offset, padAt, extra, 0);
        var tokens = new string[targetLength];
        Array.Copy(Tokens, 0, tokens, offset, n);
        Array.Fill(tokens, padToken, padAt, extra);
        Tokens = tokens;
        var offsets = new (int, int)[targetLength];
        Array.Copy(Offsets, 0, offsets, offset, n);
        Offsets = offsets;
    }

    private static int[] Grow(int[] source, int length, int offset, int padAt, int extra, int fill)
    {
        var result = new int[length];
        Array.Copy(source, 0, result, offset, source.Length);
        if (fill != 0) Array.Fill(result, fill, padAt, extra);
        return result;
    }

    /// <summary>A read-only view mapping -1 to null.</summary>
    private sealed class NullableView(int[] values) : IReadOnlyList<int?>
    {
        public int? this[int index] => values[index] < 0 ? null : values[index];

        public int Count => values.Length;

        public IEnumerator<int?> GetEnumerator()
        {
            foreach (int v in values) yield return v < 0 ? null : v;
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
