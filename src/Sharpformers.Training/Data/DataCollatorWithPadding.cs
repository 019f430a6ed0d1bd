using Sharpformers.Tokenizers;
using Sharpformers.Utils;

namespace Sharpformers.Training.Data;

/// <summary>
/// Turns dataset rows into one padded batch (HF's data_collator). A randomized collator
/// (<see cref="DataCollatorForLanguageModeling"/>) draws from the generator it is given, which the
/// Trainer owns and checkpoints, so a resumed run masks exactly as the uninterrupted one.
/// </summary>
public interface IDataCollator
{
    /// <summary>Collates the rows <paramref name="rows"/> of a tokenized dataset.</summary>
    /// <param name="random">The generator of a randomized collator; deterministic collators ignore it.</param>
    CollatedBatch Collate(Dataset dataset, ReadOnlySpan<int> rows, SeededRandom? random);
}

/// <summary>One tokenized example, the collator's input (HF: one feature dict of a tokenized dataset).</summary>
public sealed record TokenizedExample
{
    public required int[] InputIds { get; init; }

    /// <summary>1 for real tokens, 0 for padding; all ones when absent.</summary>
    public int[]? AttentionMask { get; init; }

    public int[]? TokenTypeIds { get; init; }

    public int[]? SpecialTokensMask { get; init; }

    /// <summary>A class id (classification).</summary>
    public int? Label { get; init; }

    /// <summary>A real-valued target (regression, num_labels == 1).</summary>
    public float? FloatLabel { get; init; }
}

/// <summary>
/// A padded batch, HF's <c>{"input_ids", "attention_mask", "token_type_ids", "labels"}</c> as
/// row-major arrays: token tensors are (<see cref="BatchSize"/>, <see cref="SequenceLength"/>).
/// </summary>
public sealed class CollatedBatch
{
    public required int BatchSize { get; init; }

    public required int SequenceLength { get; init; }

    /// <summary>(B, T) token ids, padded with the tokenizer's pad id.</summary>
    public required int[] InputIds { get; init; }

    /// <summary>(B, T) 1 for real tokens, 0 for padding.</summary>
    public required int[] AttentionMask { get; init; }

    /// <summary>(B, T) segment ids padded with the pad token type id (0), when the inputs had them.</summary>
    public int[]? TokenTypeIds { get; init; }

    /// <summary>(B, T) padded with 1, when the inputs had it.</summary>
    public int[]? SpecialTokensMask { get; init; }

    /// <summary>
    /// (B) class ids (HF renames "label" to "labels"), when the inputs were labelled with ids; for
    /// masked-LM batches (B, T) token ids to predict, -100 where nothing is predicted.
    /// </summary>
    public int[]? Labels { get; init; }

    /// <summary>(B) regression targets, when the inputs were labelled with floats.</summary>
    public float[]? FloatLabels { get; init; }

    /// <summary>Number of non-padding tokens (HF's num_input_tokens_seen counts all input ids instead).</summary>
    public int CountRealTokens() => AttentionMask.Count(m => m != 0);
}

/// <summary>
/// HF's <c>DataCollatorWithPadding</c>: pads a list of tokenized examples to a rectangular batch —
/// dynamically, to the longest example (rounded up to <see cref="PadToMultipleOf"/> when set) —
/// with the tokenizer's pad id for input_ids, 0 for attention_mask and token_type_ids, 1 for
/// special_tokens_mask; creates the attention mask when the examples have none; and passes
/// "label"/"labels"/"label_ids" through as <c>labels</c> (ints, or floats for regression).
/// </summary>
public sealed class DataCollatorWithPadding : IDataCollator
{
    private static readonly string[] LabelColumns = ["label", "labels", "label_ids"];

    /// <param name="padTokenId">The tokenizer's pad token id ([PAD] is 0 in BERT vocabularies, &lt;pad&gt; is 1 in RoBERTa's).</param>
    public DataCollatorWithPadding(int padTokenId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padTokenId);
        PadTokenId = padTokenId;
    }

    /// <summary>HF's <c>DataCollatorWithPadding(tokenizer=tokenizer)</c>: pad id, pad token type id, padding side and max length from the tokenizer.</summary>
    public DataCollatorWithPadding(PreTrainedTokenizer tokenizer)
        : this(PadIdOf(tokenizer))
    {
        PadTokenTypeId = tokenizer.PadTokenTypeId;
        PaddingSide = tokenizer.PaddingSide;
        modelMaxLength = tokenizer.ModelMaxLength is > 0 and <= int.MaxValue ? (int)tokenizer.ModelMaxLength : null;
    }

    private readonly int? modelMaxLength;

    private static int PadIdOf(PreTrainedTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.PadTokenId
            ?? throw new ArgumentException($"The tokenizer ({tokenizer.TokenizerClass}) has no pad token, so batches cannot be padded; set one (e.g. the eos token) first.", nameof(tokenizer));
    }

    public int PadTokenId { get; }

    public int PadTokenTypeId { get; init; }

    /// <summary>HF's padding argument: true / Longest (the default), MaxLength, or false / DoNotPad.</summary>
    public Padding Padding { get; init; } = Padding.Longest;

    /// <summary>The padded length for <see cref="PaddingStrategy.MaxLength"/> (default: the tokenizer's model_max_length).</summary>
    public int? MaxLength { get; init; }

    /// <summary>Rounds the padded length up to a multiple of this (e.g. 8), as HF's pad_to_multiple_of.</summary>
    public int? PadToMultipleOf { get; init; }

    public Side PaddingSide { get; init; } = Side.Right;

    /// <summary>Pads the given examples into one batch.</summary>
    public CollatedBatch Collate(IReadOnlyList<TokenizedExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
        {
            throw new ArgumentException("Cannot collate an empty batch.", nameof(examples));
        }
        var first = examples[0];
        bool hasTokenTypes = first.TokenTypeIds is not null;
        bool hasSpecialMask = first.SpecialTokensMask is not null;
        bool hasLabels = first.Label is not null;
        bool hasFloatLabels = first.FloatLabel is not null;
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            ArgumentNullException.ThrowIfNull(e.InputIds, $"examples[{i}].InputIds");
            if ((e.TokenTypeIds is not null) != hasTokenTypes || (e.SpecialTokensMask is not null) != hasSpecialMask
                || (e.Label is not null) != hasLabels || (e.FloatLabel is not null) != hasFloatLabels)
            {
                throw new ArgumentException($"Example {i} has different fields from example 0 (token_type_ids, special_tokens_mask or labels).", nameof(examples));
            }
            CheckSameLength(e.AttentionMask, e.InputIds.Length, i, "attention_mask");
            CheckSameLength(e.TokenTypeIds, e.InputIds.Length, i, "token_type_ids");
            CheckSameLength(e.SpecialTokensMask, e.InputIds.Length, i, "special_tokens_mask");
        }
        int length = PaddedLength(examples.Select(e => e.InputIds.Length));
        int batch = examples.Count;
        var inputIds = new int[batch * length];
        var attention = new int[batch * length];
        var tokenTypes = hasTokenTypes ? new int[batch * length] : null;
        var special = hasSpecialMask ? new int[batch * length] : null;
        for (int b = 0; b < batch; b++)
        {
            var e = examples[b];
            int n = e.InputIds.Length;
            int offset = b * length + (PaddingSide == Side.Left ? length - n : 0);
            int padStart = b * length + (PaddingSide == Side.Left ? 0 : n);
            var row = new Range(padStart, padStart + (length - n));
            e.InputIds.CopyTo(inputIds, offset);
            inputIds.AsSpan(row).Fill(PadTokenId);
            if (e.AttentionMask is { } mask) mask.CopyTo(attention, offset);
            else attention.AsSpan(offset, n).Fill(1);
            if (tokenTypes is not null)
            {
                e.TokenTypeIds!.CopyTo(tokenTypes, offset);
                tokenTypes.AsSpan(row).Fill(PadTokenTypeId);
            }
            if (special is not null)
            {
                e.SpecialTokensMask!.CopyTo(special, offset);
                special.AsSpan(row).Fill(1);
            }
        }
        return new CollatedBatch
        {
            BatchSize = batch,
            SequenceLength = length,
            InputIds = inputIds,
            AttentionMask = attention,
            TokenTypeIds = tokenTypes,
            SpecialTokensMask = special,
            Labels = hasLabels ? examples.Select(e => e.Label!.Value).ToArray() : null,
            FloatLabels = hasFloatLabels ? examples.Select(e => e.FloatLabel!.Value).ToArray() : null,
        };
    }

    /// <summary>
    /// Collates rows of a tokenized dataset: columns input_ids (int[]), optional attention_mask,
    /// token_type_ids, special_tokens_mask, and label/labels/label_ids (int or float). Other columns
    /// (text, idx, …) are ignored, as HF's Trainer drops columns the model does not take.
    /// </summary>
    public CollatedBatch Collate(Dataset dataset, ReadOnlySpan<int> rows) => Collate(Examples(dataset, rows));

    CollatedBatch IDataCollator.Collate(Dataset dataset, ReadOnlySpan<int> rows, SeededRandom? random) => Collate(dataset, rows);

    /// <summary>The tokenized examples at <paramref name="rows"/> of a dataset.</summary>
    public static IReadOnlyList<TokenizedExample> Examples(Dataset dataset, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!dataset.HasColumn("input_ids"))
        {
            throw new InvalidOperationException(
                $"The dataset has no 'input_ids' column (columns: [{string.Join(", ", dataset.ColumnNames)}]); tokenize it first with Map(…, batched: true).");
        }
        var ids = IntSequences(dataset, "input_ids")!;
        var mask = IntSequences(dataset, "attention_mask");
        var types = IntSequences(dataset, "token_type_ids");
        var special = IntSequences(dataset, "special_tokens_mask");
        string? labelColumn = LabelColumns.FirstOrDefault(dataset.HasColumn);
        var labels = labelColumn is null ? null : dataset[labelColumn];
        var examples = new TokenizedExample[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            examples[i] = new TokenizedExample
            {
                InputIds = ids(r),
                AttentionMask = mask?.Invoke(r),
                TokenTypeIds = types?.Invoke(r),
                SpecialTokensMask = special?.Invoke(r),
                Label = labels switch
                {
                    DatasetColumn<int> c => c[r],
                    DatasetColumn<long> c => checked((int)c[r]),
                    DatasetColumn<bool> c => c[r] ? 1 : 0,
                    _ => null,
                },
                FloatLabel = labels switch
                {
                    DatasetColumn<float> c => c[r],
                    DatasetColumn<double> c => (float)c[r],
                    _ => null,
                },
            };
            if (labels is not null && examples[i].Label is null && examples[i].FloatLabel is null)
            {
                throw new InvalidOperationException($"Column '{labelColumn}' holds {labels.ElementType.Name} values; labels must be class ids (int) or floats.");
            }
        }
        return examples;
    }

    private int PaddedLength(IEnumerable<int> lengths)
    {
        int longest = lengths.Max();
        var strategy = Padding.Strategy;
        int length = strategy switch
        {
            PaddingStrategy.Longest => longest,
            PaddingStrategy.MaxLength => MaxLength ?? modelMaxLength ?? throw new InvalidOperationException("PaddingStrategy.MaxLength needs MaxLength."),
            _ => longest,
        };
        if (strategy == PaddingStrategy.DoNotPad && lengths.Any(l => l != longest))
        {
            throw new ArgumentException("PaddingStrategy.DoNotPad needs examples of equal length; this batch has lengths " +
                string.Join(", ", lengths.Distinct()) + ".");
        }
        if (longest > length)
        {
            throw new ArgumentException($"An example has {longest} tokens, more than MaxLength {length}; truncate when tokenizing (truncation: true, maxLength).");
        }
        if (strategy != PaddingStrategy.DoNotPad && PadToMultipleOf is int multiple && multiple > 0 && length % multiple != 0)
        {
            length = (length / multiple + 1) * multiple;
        }
        return length;
    }

    private static void CheckSameLength(int[]? values, int expected, int example, string name)
    {
        if (values is not null && values.Length != expected)
        {
            throw new ArgumentException($"Example {example}: {name} has {values.Length} entries but input_ids has {expected}.");
        }
    }

    private static Func<int, int[]>? IntSequences(Dataset dataset, string column)
    {
        if (!dataset.HasColumn(column)) return null;
        return dataset[column] switch
        {
            DatasetColumn<int[]> c => r => c[r],
            DatasetColumn<long[]> c => r => Array.ConvertAll(c[r], v => checked((int)v)),
            var other => throw new InvalidOperationException($"Column '{column}' holds {other.ElementType.Name} values; expected lists of token ids (int[])."),
        };
    }
}
