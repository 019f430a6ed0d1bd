using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Sharpformers.Training.Data;

/// <summary>One example of a <see cref="Dataset"/>: column name → cell (HF's example dict).</summary>
public sealed class DatasetRow : IReadOnlyDictionary<string, object?>
{
    private readonly Dataset dataset;

    internal DatasetRow(Dataset dataset, int index)
    {
        this.dataset = dataset;
        Index = index;
    }

    /// <summary>The row's position in its dataset.</summary>
    public int Index { get; }

    public object? this[string key] => dataset[key].GetValue(Index);

    /// <summary>The cell of <paramref name="column"/>, typed; throws naming the column's real type on a mismatch.</summary>
    public T Get<T>(string column)
    {
        var data = dataset[column];
        if (data is DatasetColumn<T> typed)
        {
            return typed[Index];
        }
        throw new InvalidCastException($"Column '{column}' holds {data.ElementType.Name} values, not {typeof(T).Name}.");
    }

    public IEnumerable<string> Keys => dataset.ColumnNames;

    public IEnumerable<object?> Values => dataset.ColumnNames.Select(c => this[c]);

    public int Count => dataset.ColumnNames.Count;

    public bool ContainsKey(string key) => dataset.HasColumn(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        if (dataset.HasColumn(key))
        {
            value = this[key];
            return true;
        }
        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        dataset.ColumnNames.Select(c => new KeyValuePair<string, object?>(c, this[c])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        "{" + string.Join(", ", this.Select(p => $"'{p.Key}': {Format(p.Value)}")) + "}";

    private static string Format(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>
/// A block of consecutive rows handed to a batched <see cref="Dataset.Map(Func{DatasetBatch, IReadOnlyDictionary{string, IList}}, bool, int, IEnumerable{string}?)"/>
/// function (HF's batch dict: column name → list of cells). Views, not copies.
/// </summary>
public sealed class DatasetBatch : IReadOnlyDictionary<string, IList>
{
    private readonly Dataset dataset;

    internal DatasetBatch(Dataset dataset, int start, int count)
    {
        this.dataset = dataset;
        Start = start;
        NumRows = count;
    }

    /// <summary>The index of the batch's first row in the dataset.</summary>
    public int Start { get; }

    /// <summary>Rows in this batch.</summary>
    public int NumRows { get; }

    public IList this[string key] => dataset[key].Slice(Start, NumRows);

    /// <summary>The cells of <paramref name="column"/> in this batch, typed.</summary>
    public IReadOnlyList<T> Column<T>(string column)
    {
        var data = dataset[column];
        if (data is DatasetColumn<T>)
        {
            return (IReadOnlyList<T>)data.Slice(Start, NumRows);
        }
        throw new InvalidCastException($"Column '{column}' holds {data.ElementType.Name} values, not {typeof(T).Name}.");
    }

    public IEnumerable<string> Keys => dataset.ColumnNames;

    public IEnumerable<IList> Values => dataset.ColumnNames.Select(c => this[c]);

    /// <summary>Columns in this batch (dictionary semantics, as len() of HF's batch dict); rows are <see cref="NumRows"/>.</summary>
    public int Count => dataset.ColumnNames.Count;

    public bool ContainsKey(string key) => dataset.HasColumn(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out IList value)
    {
        if (dataset.HasColumn(key))
        {
            value = this[key];
            return true;
        }
        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, IList>> GetEnumerator() =>
        dataset.ColumnNames.Select(c => new KeyValuePair<string, IList>(c, this[c])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
