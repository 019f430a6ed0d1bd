using System.Collections;
using System.Globalization;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;

namespace Sharpformers.Training.Data;

/// <summary>
/// An immutable table of examples, the .NET counterpart of Hugging Face <c>datasets.Dataset</c>:
/// named, typed columns (<see cref="DatasetColumn{T}"/>) with <see cref="Features"/> (ClassLabel names),
/// and the same transformations — <see cref="Map(Func{DatasetBatch, IReadOnlyDictionary{string, IList}}, bool, int, IEnumerable{string}?)"/>
/// (batched or per row), <see cref="Filter"/>, <see cref="Shuffle(int)"/>, <see cref="TrainTestSplit"/>,
/// <see cref="Select"/>, <see cref="RemoveColumns"/>, <see cref="RenameColumn"/>. Every transformation
/// returns a new dataset; columns that did not change are shared, not copied.
/// Random choices use <see cref="SeededRandom"/>, so a seed gives the same order on every machine
/// (not the same order as numpy's generator in Python, which HF uses).
/// </summary>
public sealed class Dataset : IReadOnlyList<DatasetRow>
{
    private readonly string[] names;
    private readonly DatasetColumn[] columns;
    private readonly FeatureType[] featureTypes;
    private readonly Dictionary<string, int> positions;

    private Dataset(string[] names, DatasetColumn[] columns, FeatureType[] featureTypes, int numRows)
    {
        this.names = names;
        this.columns = columns;
        this.featureTypes = featureTypes;
        NumRows = numRows;
        positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (string.IsNullOrEmpty(names[i]))
            {
                throw new ArgumentException($"Column {i} has an empty name.");
            }
            if (!positions.TryAdd(names[i], i))
            {
                throw new ArgumentException($"Column '{names[i]}' appears twice.");
            }
            if (columns[i].Count != numRows)
            {
                throw new ArgumentException(
                    $"Column '{names[i]}' has {columns[i].Count} rows but the dataset has {numRows} (columns: {Describe(names, columns)}).");
            }
            ValidateFeature(names[i], columns[i], featureTypes[i]);
        }
        Features = new Features(names.Select((n, i) => new KeyValuePair<string, FeatureType>(n, featureTypes[i])));
    }

    /// <summary>
    /// Builds a dataset from columns (HF's <c>Dataset.from_dict</c>); column types are taken from the
    /// lists (see <see cref="DatasetColumn.FromList"/>). <paramref name="features"/> may give a
    /// <see cref="ClassLabel"/> (or another type) for some columns; the rest are inferred.
    /// </summary>
    public static Dataset FromDict(IReadOnlyDictionary<string, IList> columns, IReadOnlyDictionary<string, FeatureType>? features = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        return FromColumns(columns.Select(p => (p.Key, DatasetColumn.FromList(p.Value, p.Key))), features);
    }

    /// <summary>Builds a dataset from already-built columns, in the given order.</summary>
    public static Dataset FromColumns(IEnumerable<(string Name, DatasetColumn Column)> columns, IReadOnlyDictionary<string, FeatureType>? features = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var list = columns.ToList();
        if (features is not null)
        {
            foreach (var key in features.Keys)
            {
                if (!list.Exists(c => c.Name == key))
                {
                    throw new ArgumentException($"Features name a column '{key}' that is not among [{string.Join(", ", list.Select(c => c.Name))}].", nameof(features));
                }
            }
        }
        int rows = list.Count == 0 ? 0 : list[0].Column.Count;
        return new Dataset(
            list.Select(c => c.Name).ToArray(),
            list.Select(c => c.Column).ToArray(),
            list.Select(c => features is not null && features.TryGetValue(c.Name, out var f) ? f : FeatureType.Infer(c.Column.ElementType)).ToArray(),
            rows);
    }

    /// <summary>Builds a dataset from rows (HF's <c>Dataset.from_list</c>); every row must have the first row's keys.</summary>
    public static Dataset FromList(IEnumerable<IReadOnlyDictionary<string, object?>> rows, IReadOnlyDictionary<string, FeatureType>? features = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        List<string>? keys = null;
        List<List<object?>>? cells = null;
        int index = 0;
        foreach (var row in rows)
        {
            if (keys is null)
            {
                keys = row.Keys.ToList();
                cells = keys.Select(_ => new List<object?>()).ToList();
            }
            if (row.Count != keys.Count || !keys.All(row.ContainsKey))
            {
                throw new ArgumentException($"Row {index} has the keys [{string.Join(", ", row.Keys)}]; row 0 has [{string.Join(", ", keys)}].", nameof(rows));
            }
            for (int k = 0; k < keys.Count; k++) cells![k].Add(row[keys[k]]);
            index++;
        }
        if (keys is null) return FromColumns([], features);
        return FromColumns(keys.Select((k, i) => (k, DatasetColumn.FromList(cells![i], k))), features);
    }

    public int NumRows { get; }

    public int NumColumns => names.Length;

    /// <summary>(rows, columns), as HF's <c>shape</c>.</summary>
    public (int Rows, int Columns) Shape => (NumRows, names.Length);

    public IReadOnlyList<string> ColumnNames => names;

    public Features Features { get; }

    int IReadOnlyCollection<DatasetRow>.Count => NumRows;

    /// <summary>The column named <paramref name="column"/>; throws listing the columns when absent.</summary>
    public DatasetColumn this[string column] => columns[PositionOf(column)];

    /// <summary>Row <paramref name="index"/> as a column → value view.</summary>
    public DatasetRow this[int index]
    {
        get
        {
            if ((uint)index >= (uint)NumRows)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Row {index} is outside a dataset of {NumRows} rows.");
            }
            return new DatasetRow(this, index);
        }
    }

    public bool HasColumn(string column) => positions.ContainsKey(column);

    /// <summary>The column named <paramref name="column"/>, typed (HF's <c>dataset["text"]</c>).</summary>
    public DatasetColumn<T> Column<T>(string column)
    {
        var data = this[column];
        return data as DatasetColumn<T>
            ?? throw new InvalidCastException($"Column '{column}' holds {data.ElementType.Name} values, not {typeof(T).Name}.");
    }

    /// <summary>The ClassLabel of <paramref name="column"/>, or null when it has another feature type.</summary>
    public ClassLabel? ClassLabelOf(string column) => featureTypes[PositionOf(column)] as ClassLabel;

    /// <summary>The rows at <paramref name="indices"/>, in that order (repeats allowed), as HF's <c>select</c>.</summary>
    public Dataset Select(IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int[] rows = indices.ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)NumRows)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {rows[i]} (position {i}) is outside a dataset of {NumRows} rows.");
            }
        }
        return new Dataset(names, columns.Select(c => c.Gather(rows)).ToArray(), featureTypes, rows.Length);
    }

    /// <summary>
    /// HF's <c>concatenate_datasets</c>: the rows of every dataset, one after the other. All must have
    /// the same columns with the same features (e.g. the same ClassLabel names); the first one's
    /// column order is kept.
    /// </summary>
    public static Dataset ConcatenateDatasets(IReadOnlyList<Dataset> datasets)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        if (datasets.Count == 0) throw new ArgumentException("ConcatenateDatasets needs at least one dataset.", nameof(datasets));
        var first = datasets[0];
        if (datasets.Count == 1) return first;
        for (int d = 1; d < datasets.Count; d++)
        {
            var other = datasets[d];
            if (other.NumColumns != first.NumColumns || !first.names.All(other.HasColumn))
            {
                throw new ArgumentException(
                    $"ConcatenateDatasets: dataset {d} has the columns [{string.Join(", ", other.names)}], dataset 0 [{string.Join(", ", first.names)}]; they must be the same.",
                    nameof(datasets));
            }
            for (int c = 0; c < first.names.Length; c++)
            {
                int position = other.PositionOf(first.names[c]);
                if (other.featureTypes[position] != first.featureTypes[c] || other.columns[position].ElementType != first.columns[c].ElementType)
                {
                    throw new ArgumentException(
                        $"ConcatenateDatasets: column '{first.names[c]}' is {other.featureTypes[position]} in dataset {d} but {first.featureTypes[c]} in dataset 0; " +
                        "the features must match (give both sources the same label names).", nameof(datasets));
                }
            }
        }
        var merged = new DatasetColumn[first.names.Length];
        for (int c = 0; c < merged.Length; c++)
        {
            string name = first.names[c];
            merged[c] = first.columns[c].Concat(datasets.Skip(1).Select(d => d.columns[d.PositionOf(name)]).ToList());
        }
        return new Dataset(first.names, merged, first.featureTypes, datasets.Sum(d => d.NumRows));
    }

    /// <summary>The rows in a random order drawn from <paramref name="seed"/> (deterministic for a seed).</summary>
    public Dataset Shuffle(int seed) => Shuffle(new SeededRandom(unchecked((ulong)seed)));

    /// <summary>The rows in a random order drawn from <paramref name="generator"/> (which advances).</summary>
    public Dataset Shuffle(SeededRandom generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return Select(Permutation(NumRows, generator));
    }

    /// <summary>The rows for which <paramref name="predicate"/> is true, in order.</summary>
    public Dataset Filter(Func<DatasetRow, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var kept = new List<int>();
        for (int i = 0; i < NumRows; i++)
        {
            if (predicate(new DatasetRow(this, i))) kept.Add(i);
        }
        return kept.Count == NumRows ? this : Select(kept);
    }

    /// <summary>
    /// Applies <paramref name="function"/> to every row (HF's <c>map</c> without batching). The returned
    /// columns are added, or replace existing ones of that name; null or an empty dictionary changes
    /// nothing. <paramref name="removeColumns"/> are dropped afterwards.
    /// </summary>
    public Dataset Map(Func<DatasetRow, IReadOnlyDictionary<string, object?>?> function, IEnumerable<string>? removeColumns = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        Dictionary<string, List<object?>>? outputs = null;
        for (int i = 0; i < NumRows; i++)
        {
            var result = function(new DatasetRow(this, i));
            if (outputs is null)
            {
                outputs = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
                foreach (var key in result?.Keys ?? []) outputs[key] = new List<object?>(NumRows);
            }
            int returned = result?.Count ?? 0;
            if (returned != outputs.Count || (result is not null && !result.Keys.All(outputs.ContainsKey)))
            {
                throw new InvalidOperationException(
                    $"Map: row {i} returned the keys [{string.Join(", ", result?.Keys ?? [])}] but row 0 returned [{string.Join(", ", outputs.Keys)}].");
            }
            if (result is null) continue;
            foreach (var pair in result) outputs[pair.Key].Add(pair.Value);
        }
        var newColumns = (outputs ?? []).Select(p => (p.Key, DatasetColumn.FromList(p.Value, p.Key))).ToList();
        return WithMapOutput(newColumns, NumRows, removeColumns);
    }

    /// <summary>
    /// HF's <c>map(function, batched=True, batch_size=…)</c>: <paramref name="function"/> receives
    /// blocks of up to <paramref name="batchSize"/> rows (column → list) and returns column → list.
    /// Returned columns are added or replace existing ones. A function may return a different number
    /// of rows than it received only when all input columns are removed via <paramref name="removeColumns"/>.
    /// With <paramref name="batched"/> false each block holds one row.
    /// </summary>
    public Dataset Map(Func<DatasetBatch, IReadOnlyDictionary<string, IList>?> function, bool batched, int batchSize = 1000, IEnumerable<string>? removeColumns = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (!batched) batchSize = 1;
        if (batchSize <= 0) batchSize = Math.Max(1, NumRows);
        var removed = removeColumns?.ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var column in removed) _ = PositionOf(column);
        bool keepsInputColumns = names.Any(n => !removed.Contains(n));

        List<string>? keys = null;
        var parts = new Dictionary<string, List<DatasetColumn>>(StringComparer.Ordinal);
        int outputRows = 0;
        for (int start = 0; start < NumRows; start += batchSize)
        {
            int count = Math.Min(batchSize, NumRows - start);
            var result = function(new DatasetBatch(this, start, count)) ?? new Dictionary<string, IList>();
            if (keys is null)
            {
                keys = result.Keys.ToList();
                foreach (var key in keys) parts[key] = [];
            }
            else if (result.Count != keys.Count || !result.Keys.All(parts.ContainsKey))
            {
                throw new InvalidOperationException(
                    $"Map: the batch at row {start} returned the keys [{string.Join(", ", result.Keys)}] but the first batch returned [{string.Join(", ", keys)}].");
            }
            int? batchRows = null;
            foreach (var pair in result)
            {
                if (pair.Value is null)
                {
                    throw new InvalidOperationException($"Map: the batch at row {start} returned null for column '{pair.Key}'.");
                }
                batchRows ??= pair.Value.Count;
                if (pair.Value.Count != batchRows)
                {
                    throw new InvalidOperationException(
                        $"Map: the batch at row {start} returned columns of different lengths ({string.Join(", ", result.Select(p => $"{p.Key}: {p.Value?.Count}"))}).");
                }
                var column = DatasetColumn.FromList(pair.Value, pair.Key);
                var previous = parts[pair.Key];
                if (previous.Count > 0 && previous[0].ElementType != column.ElementType)
                {
                    throw new InvalidOperationException(
                        $"Map: column '{pair.Key}' was {previous[0].ElementType.Name} in the first batch and {column.ElementType.Name} in the batch at row {start}.");
                }
                previous.Add(column);
            }
            int rows = batchRows ?? count;
            if (rows != count && keepsInputColumns)
            {
                throw new InvalidOperationException(
                    $"Map: the batch at row {start} has {count} rows but the function returned {rows}; " +
                    $"a map that changes the number of rows must remove the input columns (removeColumns: [{string.Join(", ", names)}]).");
            }
            outputRows += rows;
        }
        var newColumns = new List<(string, DatasetColumn)>();
        foreach (var key in keys ?? [])
        {
            var pieces = parts[key];
            newColumns.Add((key, pieces.Count == 1 ? pieces[0] : pieces[0].Concat(pieces.Skip(1).ToList())));
        }
        return WithMapOutput(newColumns, keys is null ? NumRows : outputRows, removed);
    }

    /// <summary>
    /// The course's <c>dataset.map(tokenize_function, batched=True)</c>: <paramref name="function"/>
    /// tokenizes a block of rows and its <see cref="BatchEncoding"/> becomes columns named as the
    /// tokenizer's model inputs (input_ids, token_type_ids when the model takes them, attention_mask),
    /// plus overflow_to_sample_mapping with overflowing tokens.
    /// <code>var tokenized = raw.Map(batch => tokenizer.Call(batch.Column&lt;string&gt;("sentence"), truncation: true), batched: true);</code>
    /// </summary>
    public Dataset Map(Func<DatasetBatch, BatchEncoding> function, bool batched, int batchSize = 1000, IEnumerable<string>? removeColumns = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Map(batch => EncodingColumns(function(batch)), batched, batchSize, removeColumns);
    }

    /// <summary>The columns of a tokenizer's output, in its model-input order.</summary>
    public static IReadOnlyDictionary<string, IList> EncodingColumns(BatchEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var columns = new Dictionary<string, IList>(StringComparer.Ordinal);
        foreach (var name in encoding.ModelInputNames)
        {
            if (encoding[name] is { } rows) columns[name] = rows;
        }
        if (!columns.ContainsKey("input_ids")) columns["input_ids"] = encoding.InputIds;
        if (encoding.OverflowToSampleMapping is { } mapping) columns["overflow_to_sample_mapping"] = mapping;
        return columns;
    }

    /// <summary>
    /// Splits into "train" and "test" as HF's <c>train_test_split</c>: a size below 1 is a fraction
    /// (test rounds up, train rounds down), a whole number ≥ 1 is a row count; a missing size is the
    /// rest (test defaults to 0.25). With <paramref name="shuffle"/> the test rows are the first
    /// n_test of a seeded permutation and train the next n_train; without, train is the first rows.
    /// </summary>
    public DatasetDict TrainTestSplit(double? testSize = null, double? trainSize = null, bool shuffle = true, int? seed = null)
    {
        int n = NumRows;
        if (testSize is null && trainSize is null) testSize = 0.25;
        int? nTest = testSize is double t ? SplitCount(t, n, nameof(testSize), roundUp: true) : null;
        int? nTrain = trainSize is double r ? SplitCount(r, n, nameof(trainSize), roundUp: false) : null;
        nTrain ??= n - nTest!.Value;
        nTest ??= n - nTrain.Value;
        if (nTrain + nTest > n)
        {
            throw new ArgumentException($"TrainTestSplit: train ({nTrain}) + test ({nTest}) rows exceed the {n} rows of the dataset.");
        }
        if (nTrain == 0 || nTest == 0)
        {
            throw new ArgumentException(
                $"TrainTestSplit: with {n} rows, testSize={Format(testSize)} and trainSize={Format(trainSize)} the {(nTrain == 0 ? "train" : "test")} split would be empty; adjust the sizes.");
        }
        int[] order;
        int[] testRows;
        int[] trainRows;
        if (shuffle)
        {
            var random = seed is int s ? new SeededRandom(unchecked((ulong)s)) : new SeededRandom(unchecked((ulong)Environment.TickCount64));
            order = Permutation(n, random);
            testRows = order[..nTest.Value];
            trainRows = order[nTest.Value..(nTest.Value + nTrain.Value)];
        }
        else
        {
            trainRows = Enumerable.Range(0, nTrain.Value).ToArray();
            testRows = Enumerable.Range(nTrain.Value, nTest.Value).ToArray();
        }
        return new DatasetDict(new Dictionary<string, Dataset> { ["train"] = Select(trainRows), ["test"] = Select(testRows) });

        static string Format(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "None";
    }

    /// <summary>The dataset without the named columns (all must exist).</summary>
    public Dataset RemoveColumns(params IEnumerable<string> columnNames)
    {
        var removed = columnNames.ToHashSet(StringComparer.Ordinal);
        foreach (var name in removed) _ = PositionOf(name);
        var keep = Enumerable.Range(0, names.Length).Where(i => !removed.Contains(names[i])).ToArray();
        return new Dataset(keep.Select(i => names[i]).ToArray(), keep.Select(i => columns[i]).ToArray(), keep.Select(i => featureTypes[i]).ToArray(), NumRows);
    }

    /// <summary>Only the named columns, in the given order (HF's <c>select_columns</c>).</summary>
    public Dataset SelectColumns(params IEnumerable<string> columnNames)
    {
        var keep = columnNames.Select(PositionOf).ToArray();
        return new Dataset(keep.Select(i => names[i]).ToArray(), keep.Select(i => columns[i]).ToArray(), keep.Select(i => featureTypes[i]).ToArray(), NumRows);
    }

    /// <summary>The dataset with column <paramref name="originalName"/> called <paramref name="newName"/>.</summary>
    public Dataset RenameColumn(string originalName, string newName)
    {
        int position = PositionOf(originalName);
        if (originalName != newName && positions.ContainsKey(newName))
        {
            throw new ArgumentException($"Cannot rename '{originalName}' to '{newName}': a column '{newName}' already exists.", nameof(newName));
        }
        var renamed = (string[])names.Clone();
        renamed[position] = newName;
        return new Dataset(renamed, columns, featureTypes, NumRows);
    }

    /// <summary>The dataset with a column added (or replaced) at the end.</summary>
    public Dataset AddColumn(string name, IList values, FeatureType? feature = null)
    {
        var column = DatasetColumn.FromList(values, name);
        var withoutOld = positions.ContainsKey(name) ? RemoveColumns(name) : this;
        if (withoutOld.names.Length > 0 && column.Count != NumRows)
        {
            throw new ArgumentException($"Column '{name}' has {column.Count} values; the dataset has {NumRows} rows.", nameof(values));
        }
        return new Dataset(
            [.. withoutOld.names, name],
            [.. withoutOld.columns, column],
            [.. withoutOld.featureTypes, feature ?? FeatureType.Infer(column.ElementType)],
            column.Count);
    }

    /// <summary>
    /// Gives <paramref name="column"/> a new feature type: a <see cref="ClassLabel"/> on an int column
    /// (ids are checked), or on a string column (names are converted to ids).
    /// </summary>
    public Dataset CastColumn(string column, FeatureType feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        int position = PositionOf(column);
        var data = columns[position];
        if (feature is ClassLabel label && data is DatasetColumn<string> strings)
        {
            var ids = new int[strings.Count];
            for (int i = 0; i < ids.Length; i++)
            {
                if (!label.TryStr2Int(strings[i], out ids[i]))
                {
                    throw new ArgumentException($"Column '{column}' row {i}: '{strings[i]}' is not one of the ClassLabel names [{string.Join(", ", label.Names)}].");
                }
            }
            data = DatasetColumn.Create(ids);
        }
        else if (feature is ClassLabel && data is DatasetColumn<long> longs)
        {
            data = DatasetColumn.Create(longs.Select(v => checked((int)v)).ToArray());
        }
        var newColumns = (DatasetColumn[])columns.Clone();
        var newFeatures = (FeatureType[])featureTypes.Clone();
        newColumns[position] = data;
        newFeatures[position] = feature;
        return new Dataset(names, newColumns, newFeatures, NumRows);
    }

    /// <summary>
    /// HF's <c>class_encode_column</c>: a string column becomes a ClassLabel column whose names are the
    /// distinct values in ordinal sort order.
    /// </summary>
    public Dataset ClassEncodeColumn(string column)
    {
        var strings = Column<string>(column);
        var label = new ClassLabel(strings.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return CastColumn(column, label);
    }

    public IEnumerator<DatasetRow> GetEnumerator()
    {
        for (int i = 0; i < NumRows; i++) yield return new DatasetRow(this, i);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        $"Dataset({{\n    features: [{string.Join(", ", names.Select(n => $"'{n}'"))}],\n    num_rows: {NumRows}\n}})";

    internal static int[] Permutation(int count, SeededRandom random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order.AsSpan());
        return order;
    }

    private int PositionOf(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (positions.TryGetValue(column, out int position))
        {
            return position;
        }
        throw new KeyNotFoundException($"No column '{column}'; the dataset has the columns [{string.Join(", ", names)}].");
    }

    private Dataset WithMapOutput(List<(string Name, DatasetColumn Column)> outputs, int outputRows, IEnumerable<string>? removeColumns)
    {
        var removed = removeColumns?.ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var column in removed) _ = PositionOf(column);
        var resultNames = new List<string>();
        var resultColumns = new List<DatasetColumn>();
        var resultFeatures = new List<FeatureType>();
        var outputByName = outputs.ToDictionary(o => o.Name, o => o.Column, StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (removed.Contains(names[i])) continue;
            resultNames.Add(names[i]);
            if (outputByName.Remove(names[i], out var replaced))
            {
                resultColumns.Add(replaced);
                resultFeatures.Add(FeatureStillFits(featureTypes[i], replaced) ? featureTypes[i] : FeatureType.Infer(replaced.ElementType));
            }
            else
            {
                resultColumns.Add(columns[i]);
                resultFeatures.Add(featureTypes[i]);
            }
        }
        foreach (var (name, column) in outputs)
        {
            if (!outputByName.ContainsKey(name)) continue;
            resultNames.Add(name);
            resultColumns.Add(column);
            resultFeatures.Add(FeatureType.Infer(column.ElementType));
        }
        return new Dataset(resultNames.ToArray(), resultColumns.ToArray(), resultFeatures.ToArray(), resultColumns.Count == 0 ? 0 : outputRows);
    }

    private static bool FeatureStillFits(FeatureType feature, DatasetColumn column)
    {
        if (feature is not ClassLabel label || column is not DatasetColumn<int> ids) return false;
        foreach (int id in ids.AsSpan())
        {
            if (id < -1 || id >= label.NumClasses) return false;
        }
        return true;
    }

    private static int SplitCount(double size, int n, string parameter, bool roundUp)
    {
        if (size <= 0 || double.IsNaN(size))
        {
            throw new ArgumentOutOfRangeException(parameter, size, $"{parameter} must be a fraction in (0, 1) or a row count ≥ 1.");
        }
        if (size < 1)
        {
            double rows = size * n;
            return roundUp ? (int)Math.Ceiling(rows) : (int)Math.Floor(rows);
        }
        if (size != Math.Floor(size))
        {
            throw new ArgumentOutOfRangeException(parameter, size, $"{parameter} ≥ 1 is a row count and must be a whole number.");
        }
        if (size >= n)
        {
            throw new ArgumentOutOfRangeException(parameter, size, $"{parameter}={size} rows leaves nothing for the other split of a {n}-row dataset.");
        }
        return (int)size;
    }

    private static void ValidateFeature(string name, DatasetColumn column, FeatureType feature)
    {
        switch (feature)
        {
            case ClassLabel label:
                if (column is not DatasetColumn<int> ids)
                {
                    throw new ArgumentException($"Column '{name}' has a ClassLabel feature but holds {column.ElementType.Name} values; ClassLabel columns hold int ids.");
                }
                var span = ids.AsSpan();
                for (int i = 0; i < span.Length; i++)
                {
                    if (span[i] < -1 || span[i] >= label.NumClasses)
                    {
                        throw new ArgumentException(
                            $"Column '{name}' row {i}: label {span[i]} is outside the ClassLabel names [{string.Join(", ", label.Names)}] (ids 0..{label.NumClasses - 1}, or -1 for none).");
                    }
                }
                break;
            case Value or Sequence:
                var expected = FeatureType.Infer(column.ElementType);
                if (!expected.Equals(feature))
                {
                    throw new ArgumentException($"Column '{name}' holds {column.ElementType.Name} values ({expected}), not {feature}.");
                }
                break;
            default:
                throw new ArgumentException($"Column '{name}': unsupported feature type {feature.GetType().Name}.");
        }
    }

    private static string Describe(string[] names, DatasetColumn[] columns) =>
        string.Join(", ", names.Select((n, i) => $"{n}: {columns[i].Count}"));
}
