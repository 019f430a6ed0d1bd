namespace Sharpformers.Tokenizers;

/// <summary>
/// The result of a tokenizer call (transformers' <c>BatchEncoding</c>): one row per encoded sequence (per
/// window with overflowing tokens), as <c>int[][]</c> arrays named like the model inputs, plus the
/// per-row <see cref="Encoding"/>s for offsets, words and tokens. Rows are rectangular when padded.
/// </summary>
public sealed class BatchEncoding
{
    internal BatchEncoding(IReadOnlyList<Encoding> encodings, IReadOnlyList<string> modelInputNames, int[]? overflowToSampleMapping)
    {
        Encodings = encodings;
        ModelInputNames = modelInputNames;
        int n = encodings.Count;
        InputIds = new int[n][];
        AttentionMask = new int[n][];
        SpecialTokensMask = new int[n][];
        OffsetMapping = new (int Start, int End)[n][];
        bool withTypeIds = modelInputNames.Contains("token_type_ids");
        TokenTypeIds = withTypeIds ? new int[n][] : null;
        for (int i = 0; i < n; i++)
        {
            var e = encodings[i];
            InputIds[i] = e.Ids;
            AttentionMask[i] = e.AttentionMask;
            SpecialTokensMask[i] = e.SpecialTokensMask;
            OffsetMapping[i] = e.Offsets;
            if (TokenTypeIds is not null) TokenTypeIds[i] = e.TypeIds;
        }
        OverflowToSampleMapping = overflowToSampleMapping;
    }

    /// <summary>The model inputs this tokenizer returns (e.g. input_ids, token_type_ids, attention_mask).</summary>
    public IReadOnlyList<string> ModelInputNames { get; }

    /// <summary>input_ids: one row per sequence.</summary>
    public int[][] InputIds { get; }

    /// <summary>attention_mask: 1 for real tokens, 0 for padding.</summary>
    public int[][] AttentionMask { get; }

    /// <summary>token_type_ids, or null when the model takes none (RoBERTa, DistilBERT, XLM-R...), as in transformers.</summary>
    public int[][]? TokenTypeIds { get; }

    /// <summary>special_tokens_mask: 1 for special and padding tokens.</summary>
    public int[][] SpecialTokensMask { get; }

    /// <summary>offset_mapping: [start, end) of each token in its original text, (0, 0) for special tokens.</summary>
    public (int Start, int End)[][] OffsetMapping { get; }

    /// <summary>With overflowing tokens: the index of the input each row came from; otherwise null.</summary>
    public int[]? OverflowToSampleMapping { get; }

    /// <summary>The per-row encodings.</summary>
    public IReadOnlyList<Encoding> Encodings { get; }

    /// <summary>Number of rows.</summary>
    public int Count => InputIds.Length;

    /// <summary>True when every row has the same length (padding on, or equal lengths).</summary>
    public bool IsRectangular
    {
        get
        {
            for (int i = 1; i < InputIds.Length; i++)
            {
                if (InputIds[i].Length != InputIds[0].Length) return false;
            }
            return true;
        }
    }

    /// <summary>The common row length; throws when rows differ (call with padding).</summary>
    public int SequenceLength => IsRectangular
        ? (InputIds.Length == 0 ? 0 : InputIds[0].Length)
        : throw new InvalidOperationException("the rows of this batch have different lengths; encode with padding to get a rectangular batch");

    /// <summary>Rows of <paramref name="rows"/> laid end to end, row-major (B, T), for building tensors.</summary>
    public static int[] Flatten(int[][] rows)
    {
        int total = 0;
        foreach (var r in rows) total += r.Length;
        var flat = new int[total];
        int at = 0;
        foreach (var r in rows)
        {
            r.CopyTo(flat, at);
            at += r.Length;
        }
        return flat;
    }

    /// <summary>Looks up a model input by its transformers name (input_ids, attention_mask, token_type_ids, special_tokens_mask).</summary>
    public int[][]? this[string name] => name switch
    {
        "input_ids" => InputIds,
        "attention_mask" => AttentionMask,
        "token_type_ids" => TokenTypeIds,
        "special_tokens_mask" => SpecialTokensMask,
        _ => null,
    };

    /// <summary>The token strings of a row.</summary>
    public string[] Tokens(int batchIndex = 0) => Encodings[batchIndex].Tokens;

    /// <summary>The word index of each token of a row (null for special tokens).</summary>
    public IReadOnlyList<int?> WordIds(int batchIndex = 0) => Encodings[batchIndex].WordIds;

    /// <summary>The sequence index (0 or 1) of each token of a row (null for special tokens).</summary>
    public IReadOnlyList<int?> SequenceIds(int batchIndex = 0) => Encodings[batchIndex].SequenceIds;

    /// <summary>The token of a row covering a character of the original text.</summary>
    public int? CharToToken(int batchIndex, int charIndex, int sequenceIndex = 0) =>
        Encodings[batchIndex].CharToToken(charIndex, sequenceIndex);

    /// <summary>The word of a row containing a character of the original text.</summary>
    public int? CharToWord(int batchIndex, int charIndex, int sequenceIndex = 0) =>
        Encodings[batchIndex].CharToWord(charIndex, sequenceIndex);

    /// <summary>The character range of a token of a row (null for special tokens).</summary>
    public (int Start, int End)? TokenToChars(int batchIndex, int tokenIndex) => Encodings[batchIndex].TokenToChars(tokenIndex);

    /// <summary>The word of a token of a row (null for special tokens).</summary>
    public int? TokenToWord(int batchIndex, int tokenIndex) => Encodings[batchIndex].TokenToWord(tokenIndex);

    /// <summary>The sequence of a token of a row (null for special tokens).</summary>
    public int? TokenToSequence(int batchIndex, int tokenIndex) => Encodings[batchIndex].TokenToSequence(tokenIndex);

    /// <summary>The token range [start, end) of a word of a row.</summary>
    public (int Start, int End)? WordToTokens(int batchIndex, int wordIndex, int sequenceIndex = 0) =>
        Encodings[batchIndex].WordToTokens(wordIndex, sequenceIndex);

    /// <summary>The character range of a word of a row.</summary>
    public (int Start, int End)? WordToChars(int batchIndex, int wordIndex, int sequenceIndex = 0) =>
        Encodings[batchIndex].WordToChars(wordIndex, sequenceIndex);
}
