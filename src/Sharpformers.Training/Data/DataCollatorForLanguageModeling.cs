using System.Collections;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;

namespace Sharpformers.Training.Data;

/// <summary>
/// HF's <c>DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15)</c>: pads a
/// batch (as <see cref="DataCollatorWithPadding"/>), then picks each non-special token with
/// probability <see cref="MlmProbability"/> as a prediction target — its label is the original id,
/// every other label is -100 — and replaces a picked token by [MASK] 80% of the time, by a random id
/// of the vocabulary (len(tokenizer), as HF) 10% of the time, and leaves it 10% of the time. Special
/// tokens ([CLS], [SEP], padding) are never picked: the examples' special_tokens_mask says which
/// they are (run_mlm tokenizes with return_special_tokens_mask=True), else every id among the
/// tokenizer's special ids counts. The special_tokens_mask is not passed on (HF pops it).
/// <para>
/// The draws come from the generator passed to <see cref="Collate(IReadOnlyList{TokenizedExample}, SeededRandom)"/>,
/// position by position in row-major order — the Trainer passes its own checkpointed generator, so
/// masking is deterministic for a seed and a resumed run masks exactly as the uninterrupted one. The
/// masks cannot equal torch's (another generator).
/// </para>
/// </summary>
public sealed class DataCollatorForLanguageModeling : IDataCollator
{
    private readonly DataCollatorWithPadding padding;
    private readonly HashSet<int> specialIds;

    public DataCollatorForLanguageModeling(PreTrainedTokenizer tokenizer, double mlmProbability = 0.15, int? padToMultipleOf = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (!(mlmProbability > 0 && mlmProbability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(mlmProbability), mlmProbability, "mlm_probability must be between 0 and 1 (exclusive).");
        }
        MaskTokenId = tokenizer.MaskTokenId
            ?? throw new ArgumentException(
                "This tokenizer does not have a mask token which is necessary for masked language modeling.", nameof(tokenizer));
        padding = new DataCollatorWithPadding(tokenizer) { PadToMultipleOf = padToMultipleOf };
        specialIds = tokenizer.AllSpecialIds.ToHashSet();
        VocabSize = tokenizer.Count;
        MlmProbability = mlmProbability;
    }

    /// <summary>The fraction of (non-special) tokens picked as prediction targets.</summary>
    public double MlmProbability { get; }

    public int MaskTokenId { get; }

    /// <summary>len(tokenizer): random replacements are drawn from [0, VocabSize).</summary>
    public int VocabSize { get; }

    public int PadTokenId => padding.PadTokenId;

    /// <summary>Pads the examples and masks them, drawing from <paramref name="random"/>.</summary>
    public CollatedBatch Collate(IReadOnlyList<TokenizedExample> examples, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var padded = padding.Collate(examples);
        var inputIds = (int[])padded.InputIds.Clone();
        var labels = MaskTokens(inputIds, padded.SpecialTokensMask, random);
        return new CollatedBatch
        {
            BatchSize = padded.BatchSize,
            SequenceLength = padded.SequenceLength,
            InputIds = inputIds,
            AttentionMask = padded.AttentionMask,
            TokenTypeIds = padded.TokenTypeIds,
            Labels = labels,
        };
    }

    /// <summary>Collates dataset rows (input_ids, optional attention_mask / token_type_ids / special_tokens_mask).</summary>
    public CollatedBatch Collate(Dataset dataset, ReadOnlySpan<int> rows, SeededRandom random) =>
        Collate(DataCollatorWithPadding.Examples(dataset, rows), random);

    CollatedBatch IDataCollator.Collate(Dataset dataset, ReadOnlySpan<int> rows, SeededRandom? random) =>
        Collate(dataset, rows, random ?? throw new ArgumentNullException(nameof(random),
            "DataCollatorForLanguageModeling masks at random: it needs the generator the Trainer (or the caller) owns."));

    /// <summary>
    /// HF's torch_mask_tokens, in place over <paramref name="inputIds"/> (B·T): returns the labels
    /// (the original id where a token was picked, -100 elsewhere). <paramref name="specialTokensMask"/>
    /// (1 = never pick) may be null; the tokenizer's special ids are then excluded.
    /// </summary>
    public int[] MaskTokens(int[] inputIds, int[]? specialTokensMask, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(random);
        if (specialTokensMask is not null && specialTokensMask.Length != inputIds.Length)
        {
            throw new ArgumentException($"special_tokens_mask has {specialTokensMask.Length} entries, input_ids {inputIds.Length}.", nameof(specialTokensMask));
        }
        var labels = new int[inputIds.Length];
        for (int i = 0; i < inputIds.Length; i++)
        {
            labels[i] = -100;
            bool special = specialTokensMask is not null ? specialTokensMask[i] != 0 : specialIds.Contains(inputIds[i]);
            if (special || random.NextDouble() >= MlmProbability) continue;
            labels[i] = inputIds[i];
            double action = random.NextDouble();
            if (action < 0.8)
            {
                inputIds[i] = MaskTokenId;
            }
            else if (action < 0.9)
            {
                inputIds[i] = random.NextInt(VocabSize);
            }
        }
        return labels;
    }
}

/// <summary>
/// The data side of HF's run_mlm.py: tokenizing texts with their special-tokens masks, and
/// <see cref="GroupTexts"/> (concatenate, cut into blocks) or line-by-line examples.
/// </summary>
public static class LanguageModelingData
{
    /// <summary>
    /// run_mlm's tokenize_function: every text of <paramref name="textColumn"/> tokenized with special
    /// tokens ([CLS] … [SEP]) and return_special_tokens_mask, into input_ids, attention_mask (and
    /// token_type_ids when the model takes them) and special_tokens_mask columns; the other columns
    /// are removed. With <paramref name="maxLength"/> (line by line) texts are truncated to it and
    /// empty ones dropped; without, nothing is truncated (group_texts cuts the blocks).
    /// </summary>
    public static Dataset Tokenize(Dataset dataset, PreTrainedTokenizer tokenizer, int? maxLength = null, string textColumn = "text")
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (maxLength is not null)
        {
            dataset = dataset.Filter(row => row[textColumn] is string text && !string.IsNullOrWhiteSpace(text));
        }
        return dataset.Map(batch =>
        {
            var encoding = tokenizer.Call(batch.Column<string>(textColumn), truncation: maxLength is not null, maxLength: maxLength);
            var columns = new Dictionary<string, IList>(Dataset.EncodingColumns(encoding), StringComparer.Ordinal)
            {
                ["special_tokens_mask"] = encoding.SpecialTokensMask,
            };
            return columns;
        }, batched: true, removeColumns: dataset.ColumnNames);
    }

    /// <summary>
    /// run_mlm's group_texts, mapped with batched=True over <paramref name="batchSize"/> examples at a
    /// time as HF does: each batch's token lists are concatenated and cut into blocks of
    /// <paramref name="blockSize"/>, the batch's remainder (shorter than a block) dropped. Every
    /// token column (input_ids, attention_mask, special_tokens_mask, …) is cut alike.
    /// </summary>
    public static Dataset GroupTexts(Dataset tokenized, int blockSize, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(tokenized);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        var names = tokenized.ColumnNames.ToArray();
        return tokenized.Map(batch =>
        {
            var result = new Dictionary<string, IList>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                var rows = batch.Column<int[]>(name);
                int total = rows.Sum(r => r.Length);
                total = total / blockSize * blockSize;
                var concatenated = new int[total];
                int offset = 0;
                foreach (var row in rows)
                {
                    int take = Math.Min(row.Length, total - offset);
                    if (take <= 0) break;
                    Array.Copy(row, 0, concatenated, offset, take);
                    offset += take;
                }
                var blocks = new int[total / blockSize][];
                for (int b = 0; b < blocks.Length; b++) blocks[b] = concatenated[(b * blockSize)..((b + 1) * blockSize)];
                result[name] = blocks;
            }
            return result;
        }, batched: true, batchSize: batchSize, removeColumns: names);
    }
}
