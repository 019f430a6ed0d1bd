using System.Collections;

namespace Sharpformers.Training.Data;

/// <summary>
/// One immutable, typed column of a <see cref="Dataset"/>. Cells are string, bool, int, long, float,
/// double, or arrays of those (token ids). <see cref="DatasetColumn{T}"/> gives typed access.
/// </summary>
public abstract class DatasetColumn
{
    private protected DatasetColumn()
    {
    }

    public abstract int Count { get; }

    /// <summary>The .NET type of one cell (string, int, int[], …).</summary>
    public abstract Type ElementType { get; }

    /// <summary>The cell at <paramref name="row"/>, boxed.</summary>
    public abstract object? GetValue(int row);

    /// <summary>The cells as a list (no copy; typed as <see cref="IReadOnlyList{T}"/> of <see cref="ElementType"/> too).</summary>
    public abstract IList AsList();

    /// <summary>A new column holding the rows at <paramref name="rows"/>, in that order.</summary>
    public abstract DatasetColumn Gather(ReadOnlySpan<int> rows);

    /// <summary>The rows start..start+length as a list view (no copy).</summary>
    public abstract IList Slice(int start, int length);

    internal abstract DatasetColumn Concat(IReadOnlyList<DatasetColumn> parts);

    /// <summary>Wraps an array as a column without copying; the caller must not change it afterwards.</summary>
    public static DatasetColumn<T> Create<T>(T[] values) => new(values);

    /// <summary>
    /// Builds a column from a list of cells. A typed array or List of a supported type is used as is;
    /// an untyped list is inspected: ints and longs widen to long, integers mixed with floats to double,
    /// lists of ints become int[] cells. <paramref name="columnName"/> is for error messages.
    /// </summary>
    public static DatasetColumn FromList(IList values, string columnName)
    {
        ArgumentNullException.ThrowIfNull(values);
        switch (values)
        {
            case string[] a: return new DatasetColumn<string>(a);
            case bool[] a: return new DatasetColumn<bool>(a);
            case int[] a: return new DatasetColumn<int>(a);
            case long[] a: return new DatasetColumn<long>(a);
            case float[] a: return new DatasetColumn<float>(a);
            case double[] a: return new DatasetColumn<double>(a);
            case int[][] a: return new DatasetColumn<int[]>(a);
            case long[][] a: return new DatasetColumn<long[]>(a);
            case float[][] a: return new DatasetColumn<float[]>(a);
            case double[][] a: return new DatasetColumn<double[]>(a);
            case string[][] a: return new DatasetColumn<string[]>(a);
            case List<string> l: return new DatasetColumn<string>(l.ToArray());
            case List<bool> l: return new DatasetColumn<bool>(l.ToArray());
            case List<int> l: return new DatasetColumn<int>(l.ToArray());
            case List<long> l: return new DatasetColumn<long>(l.ToArray());
            case List<float> l: return new DatasetColumn<float>(l.ToArray());
            case List<double> l: return new DatasetColumn<double>(l.ToArray());
            case List<int[]> l: return new DatasetColumn<int[]>(l.ToArray());
            default: return Infer(values, columnName);
        }
    }

    private static DatasetColumn Infer(IList values, string columnName)
    {
        Type? kind = null;
        for (int i = 0; i < values.Count; i++)
        {
            object? value = values[i];
            Type cellType = value switch
            {
                null => typeof(string),
                string => typeof(string),
                bool => typeof(bool),
                int or short or byte or sbyte or ushort => typeof(int),
                long or uint => typeof(long),
                float => typeof(float),
                double => typeof(double),
                int[] or IReadOnlyList<int> or IEnumerable<int> => typeof(int[]),
                long[] or IReadOnlyList<long> => typeof(long[]),
                float[] or IReadOnlyList<float> => typeof(float[]),
                double[] or IReadOnlyList<double> => typeof(double[]),
                string[] or IReadOnlyList<string> => typeof(string[]),
                _ => throw new ArgumentException(
                    $"Column '{columnName}' row {i}: a {value.GetType().Name} cannot be stored in a dataset column " +
                    "(supported: string, bool, int, long, float, double and lists of those)."),
            };
            if (value is null && kind is not null && kind != typeof(string) && !kind.IsArray)
            {
                throw new ArgumentException($"Column '{columnName}' row {i}: null in a column of {kind.Name}.");
            }
            kind = kind is null ? cellType : Widen(kind, cellType, columnName, i);
        }
        kind ??= typeof(string);
        if (kind == typeof(string)) return new DatasetColumn<string>(Convert<string>(values, columnName, v => (string)v!));
        if (kind == typeof(bool)) return new DatasetColumn<bool>(Convert(values, columnName, v => (bool)v!));
        if (kind == typeof(int)) return new DatasetColumn<int>(Convert(values, columnName, v => System.Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)));
        if (kind == typeof(long)) return new DatasetColumn<long>(Convert(values, columnName, v => System.Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)));
        if (kind == typeof(float)) return new DatasetColumn<float>(Convert(values, columnName, v => System.Convert.ToSingle(v, System.Globalization.CultureInfo.InvariantCulture)));
        if (kind == typeof(double)) return new DatasetColumn<double>(Convert(values, columnName, v => System.Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture)));
        if (kind == typeof(int[])) return new DatasetColumn<int[]>(Convert(values, columnName, v => v is int[] a ? a : ((IEnumerable<int>)v!).ToArray()));
        if (kind == typeof(long[])) return new DatasetColumn<long[]>(Convert(values, columnName, v => v is long[] a ? a : ((IEnumerable<long>)v!).ToArray()));
        if (kind == typeof(float[])) return new DatasetColumn<float[]>(Convert(values, columnName, v => v is float[] a ? a : ((IEnumerable<float>)v!).ToArray()));
        if (kind == typeof(double[])) return new DatasetColumn<double[]>(Convert(values, columnName, v => v is double[] a ? a : ((IEnumerable<double>)v!).ToArray()));
        return new DatasetColumn<string[]>(Convert(values, columnName, v => v is string[] a ? a : ((IEnumerable<string>)v!).ToArray()));
    }

    private static Type Widen(Type current, Type next, string columnName, int row)
    {
        if (current == next) return current;
        if (IsNumber(current) && IsNumber(next))
        {
            int Rank(Type t) => t == typeof(int) ? 0 : t == typeof(long) ? 1 : t == typeof(float) ? 2 : 3;
            int rank = Math.Max(Rank(current), Rank(next));
            // long mixed with float must not lose integer precision: widen to double.
            if (rank == 2 && (current == typeof(long) || next == typeof(long))) rank = 3;
            return rank switch { 0 => typeof(int), 1 => typeof(long), 2 => typeof(float), _ => typeof(double) };
        }
        throw new ArgumentException($"Column '{columnName}' row {row}: a {next.Name} value in a column of {current.Name}.");
    }

    private static bool IsNumber(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double);

    private static T[] Convert<T>(IList values, string columnName, Func<object?, T> convert)
    {
        var result = new T[values.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = convert(values[i]);
        }
        return result;
    }
}

/// <summary>A column of <typeparamref name="T"/> cells.</summary>
public sealed class DatasetColumn<T> : DatasetColumn, IReadOnlyList<T>
{
    private readonly T[] values;

    internal DatasetColumn(T[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        // Validates the element type once, so unsupported types fail at construction, not later.
        _ = FeatureType.Infer(typeof(T));
        this.values = values;
    }

    public override int Count => values.Length;

    public override Type ElementType => typeof(T);

    public T this[int index] => values[index];

    public override object? GetValue(int row) => values[row];

    /// <summary>The cells as a read-only span (no copy).</summary>
    public ReadOnlySpan<T> AsSpan() => values;

    public override IList AsList() => Array.AsReadOnly(values);

    public override DatasetColumn Gather(ReadOnlySpan<int> rows)
    {
        var result = new T[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            result[i] = values[rows[i]];
        }
        return new DatasetColumn<T>(result);
    }

    public override IList Slice(int start, int length) =>
        new System.Collections.ObjectModel.ReadOnlyCollection<T>(new ArraySegment<T>(values, start, length));

    internal override DatasetColumn Concat(IReadOnlyList<DatasetColumn> parts)
    {
        int total = values.Length + parts.Sum(p => p.Count);
        var result = new T[total];
        values.CopyTo(result, 0);
        int offset = values.Length;
        foreach (var part in parts)
        {
            var typed = (DatasetColumn<T>)part;
            typed.values.CopyTo(result, offset);
            offset += typed.values.Length;
        }
        return new DatasetColumn<T>(result);
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => values.GetEnumerator();
}
