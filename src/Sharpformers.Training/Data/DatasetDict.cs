using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Sharpformers.Tokenizers;

namespace Sharpformers.Training.Data;

/// <summary>
/// Named splits ("train", "validation", "test") of one dataset, as HF's <c>DatasetDict</c>. The
/// transformations apply to every split and return a new dictionary.
/// </summary>
public sealed class DatasetDict : IReadOnlyDictionary<string, Dataset>
{
    private readonly List<KeyValuePair<string, Dataset>> splits;

    public DatasetDict(IEnumerable<KeyValuePair<string, Dataset>> splits)
    {
        ArgumentNullException.ThrowIfNull(splits);
        this.splits = splits.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, dataset) in this.splits)
        {
            ArgumentNullException.ThrowIfNull(dataset, name);
            if (!seen.Add(name)) throw new ArgumentException($"Split '{name}' appears twice.", nameof(splits));
        }
    }

    public Dataset this[string key] =>
        TryGetValue(key, out var dataset) ? dataset : throw new KeyNotFoundException($"No split '{key}'; the splits are [{string.Join(", ", Keys)}].");

    public IEnumerable<string> Keys => splits.Select(s => s.Key);

    public IEnumerable<Dataset> Values => splits.Select(s => s.Value);

    public int Count => splits.Count;

    /// <summary>Rows per split.</summary>
    public IReadOnlyDictionary<string, int> NumRows => splits.ToDictionary(s => s.Key, s => s.Value.NumRows);

    public bool ContainsKey(string key) => splits.Exists(s => s.Key == key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Dataset value)
    {
        foreach (var (name, dataset) in splits)
        {
            if (name == key)
            {
                value = dataset;
                return true;
            }
        }
        value = null;
        return false;
    }

    public DatasetDict Map(Func<DatasetRow, IReadOnlyDictionary<string, object?>?> function, IEnumerable<string>? removeColumns = null)
    {
        var removed = removeColumns?.ToList();
        return Apply(d => d.Map(function, removed));
    }

    public DatasetDict Map(Func<DatasetBatch, IReadOnlyDictionary<string, IList>?> function, bool batched, int batchSize = 1000, IEnumerable<string>? removeColumns = null)
    {
        var removed = removeColumns?.ToList();
        return Apply(d => d.Map(function, batched, batchSize, removed));
    }

    /// <summary>Tokenizes every split (the course's raw_datasets.map(tokenize_function, batched=True)).</summary>
    public DatasetDict Map(Func<DatasetBatch, BatchEncoding> function, bool batched, int batchSize = 1000, IEnumerable<string>? removeColumns = null)
    {
        var removed = removeColumns?.ToList();
        return Apply(d => d.Map(function, batched, batchSize, removed));
    }

    public DatasetDict Filter(Func<DatasetRow, bool> predicate) => Apply(d => d.Filter(predicate));

    /// <summary>Shuffles every split with the same seed, as HF does when one seed is given.</summary>
    public DatasetDict Shuffle(int seed) => Apply(d => d.Shuffle(seed));

    public DatasetDict RemoveColumns(params IEnumerable<string> columnNames)
    {
        var list = columnNames.ToList();
        return Apply(d => d.RemoveColumns(list));
    }

    public DatasetDict RenameColumn(string originalName, string newName) => Apply(d => d.RenameColumn(originalName, newName));

    public DatasetDict CastColumn(string column, FeatureType feature) => Apply(d => d.CastColumn(column, feature));

    public IEnumerator<KeyValuePair<string, Dataset>> GetEnumerator() => splits.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        "DatasetDict({\n" + string.Join(",\n", splits.Select(s => $"    {s.Key}: {s.Value}")) + "\n})";

    private DatasetDict Apply(Func<Dataset, Dataset> transform) =>
        new(splits.Select(s => new KeyValuePair<string, Dataset>(s.Key, transform(s.Value))));
}
