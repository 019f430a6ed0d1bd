using Sharpformers.Utils;

namespace Sharpformers.Training.Data;

/// <summary>
/// The order in which a data loader visits a dataset's rows in one epoch. The order of an epoch is
/// a pure function of (seed, epoch), so a resumed run re-creates it from the epoch number alone and
/// no sampler state needs saving.
/// </summary>
public interface ISampler
{
    /// <summary>Rows per epoch.</summary>
    int Count { get; }

    /// <summary>The row order of epoch <paramref name="epoch"/> (0-based).</summary>
    int[] Indices(int epoch);
}

/// <summary>Rows in dataset order, every epoch (evaluation, and <c>--no-shuffle</c> training).</summary>
public sealed class SequentialSampler(int count) : ISampler
{
    public int Count { get; } = count >= 0 ? count : throw new ArgumentOutOfRangeException(nameof(count));

    public int[] Indices(int epoch) => Enumerable.Range(0, Count).ToArray();
}

/// <summary>A fresh random permutation per epoch, drawn from (seed, epoch) (HF's default train sampler).</summary>
public sealed class RandomSampler(int count, int seed) : ISampler
{
    public int Count { get; } = count >= 0 ? count : throw new ArgumentOutOfRangeException(nameof(count));

    public int Seed { get; } = seed;

    public int[] Indices(int epoch) => Dataset.Permutation(Count, EpochRandom(Seed, epoch));

    /// <summary>The generator for one epoch of a seeded sampler.</summary>
    internal static SeededRandom EpochRandom(int seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return new SeededRandom(((ulong)(uint)seed << 32) | (uint)epoch);
    }
}

/// <summary>
/// HF's <c>LengthGroupedSampler</c> (<c>group_by_length</c>): a random permutation cut into
/// megabatches of <c>megaBatchMult × batchSize</c> rows, each sorted by length, longest first, so
/// that batches hold similar lengths and pad little; the longest example overall is moved to the
/// front so an out-of-memory shows up on the first step. megaBatchMult defaults to
/// min(n / (4 × batchSize), 50), at least 1. The Trainer passes batchSize = train batch size ×
/// gradient_accumulation_steps, as HF does.
/// </summary>
public sealed class LengthGroupedSampler : ISampler
{
    private readonly int[] lengths;

    public LengthGroupedSampler(IReadOnlyList<int> lengths, int batchSize, int seed, int? megaBatchMult = null)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        this.lengths = lengths.ToArray();
        BatchSize = batchSize;
        Seed = seed;
        int mult = megaBatchMult ?? Math.Min(this.lengths.Length / (batchSize * 4), 50);
        MegaBatchMult = Math.Max(1, mult);
    }

    public int Count => lengths.Length;

    public int BatchSize { get; }

    public int Seed { get; }

    public int MegaBatchMult { get; }

    /// <summary>
    /// Example lengths of a tokenized dataset: its "length" column when present (HF's
    /// length_column_name), else the length of each input_ids row.
    /// </summary>
    public static int[] LengthsOf(Dataset dataset, string lengthColumnName = "length", string modelInputName = "input_ids")
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.HasColumn(lengthColumnName))
        {
            return dataset[lengthColumnName] switch
            {
                DatasetColumn<int> c => c.ToArray(),
                DatasetColumn<long> c => c.Select(v => checked((int)v)).ToArray(),
                var other => throw new InvalidOperationException($"Column '{lengthColumnName}' holds {other.ElementType.Name}; lengths must be integers."),
            };
        }
        if (!dataset.HasColumn(modelInputName))
        {
            throw new InvalidOperationException(
                $"group_by_length needs a '{lengthColumnName}' or '{modelInputName}' column; the dataset has [{string.Join(", ", dataset.ColumnNames)}].");
        }
        return dataset[modelInputName] switch
        {
            DatasetColumn<int[]> c => c.Select(ids => ids.Length).ToArray(),
            DatasetColumn<long[]> c => c.Select(ids => ids.Length).ToArray(),
            var other => throw new InvalidOperationException($"Column '{modelInputName}' holds {other.ElementType.Name}; expected token id lists."),
        };
    }

    public int[] Indices(int epoch)
    {
        int[] permutation = Dataset.Permutation(lengths.Length, RandomSampler.EpochRandom(Seed, epoch));
        int size = MegaBatchMult * BatchSize;
        var megabatches = new List<int[]>();
        for (int start = 0; start < permutation.Length; start += size)
        {
            // OrderByDescending is stable, as Python's sorted(…, reverse=True) is.
            megabatches.Add(permutation.Skip(start).Take(size).OrderByDescending(i => lengths[i]).ToArray());
        }
        if (megabatches.Count > 0)
        {
            int maxIndex = 0;
            for (int m = 1; m < megabatches.Count; m++)
            {
                if (lengths[megabatches[m][0]] > lengths[megabatches[maxIndex][0]]) maxIndex = m;
            }
            (megabatches[0][0], megabatches[maxIndex][0]) = (megabatches[maxIndex][0], megabatches[0][0]);
        }
        return megabatches.SelectMany(m => m).ToArray();
    }
}

/// <summary>
/// Batches of a tokenized dataset in sampler order, padded by a collator (HF's DataLoader).
/// <see cref="Batches"/> can skip the first batches of an epoch, which is how a resumed run
/// continues mid-epoch (HF's skip_first_batches).
/// </summary>
public sealed class DataLoader
{
    public DataLoader(Dataset dataset, int batchSize, ISampler sampler, IDataCollator collator, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(collator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (sampler.Count != dataset.NumRows)
        {
            throw new ArgumentException($"The sampler covers {sampler.Count} rows but the dataset has {dataset.NumRows}.", nameof(sampler));
        }
        Dataset = dataset;
        BatchSize = batchSize;
        Sampler = sampler;
        Collator = collator;
        DropLast = dropLast;
    }

    public Dataset Dataset { get; }

    public int BatchSize { get; }

    public ISampler Sampler { get; }

    public IDataCollator Collator { get; }

    public bool DropLast { get; }

    /// <summary>Batches per epoch (HF's len(dataloader)): the last partial batch counts unless dropped.</summary>
    public int Count => DropLast ? Dataset.NumRows / BatchSize : (Dataset.NumRows + BatchSize - 1) / BatchSize;

    /// <summary>The dataset rows of each batch of an epoch, without collating.</summary>
    public IEnumerable<int[]> BatchIndices(int epoch, int skipBatches = 0)
    {
        int[] order = Sampler.Indices(epoch);
        for (int batch = Math.Max(0, skipBatches); batch < Count; batch++)
        {
            int start = batch * BatchSize;
            yield return order[start..Math.Min(order.Length, start + BatchSize)];
        }
    }

    /// <summary>
    /// The padded batches of epoch <paramref name="epoch"/>, after skipping <paramref name="skipBatches"/>
    /// (skipped batches are not collated, so they draw nothing from <paramref name="random"/>).
    /// </summary>
    /// <param name="random">Given to a randomized collator (masked-LM masking), batch by batch.</param>
    public IEnumerable<CollatedBatch> Batches(int epoch, int skipBatches = 0, SeededRandom? random = null)
    {
        foreach (var rows in BatchIndices(epoch, skipBatches))
        {
            yield return Collator.Collate(Dataset, rows, random);
        }
    }
}
