using System.Collections;

namespace Sharpformers.Training.Data;

/// <summary>
/// The type of one dataset column, as Hugging Face <c>datasets</c> describes it: a scalar
/// <see cref="Value"/>, a <see cref="Sequence"/> of values (token ids) or a <see cref="ClassLabel"/>
/// (integer ids with names).
/// </summary>
public abstract record FeatureType
{
    /// <summary>The feature of a column of the given .NET element type (int → "int32", int[] → Sequence(int32), …).</summary>
    public static FeatureType Infer(Type elementType)
    {
        ArgumentNullException.ThrowIfNull(elementType);
        if (elementType.IsArray)
        {
            return new Sequence(Infer(elementType.GetElementType()!));
        }
        return new Value(Value.DtypeOf(elementType));
    }
}

/// <summary>A scalar column: "string", "bool", "int32", "int64", "float32" or "float64".</summary>
public sealed record Value : FeatureType
{
    public Value(string dtype)
    {
        if (!KnownDtypes.Contains(dtype))
        {
            throw new ArgumentException($"Unknown Value dtype '{dtype}'; expected one of {string.Join(", ", KnownDtypes)}.", nameof(dtype));
        }
        Dtype = dtype;
    }

    private static readonly string[] KnownDtypes = ["string", "bool", "int32", "int64", "float32", "float64"];

    public string Dtype { get; }

    public override string ToString() => $"Value(dtype='{Dtype}')";

    internal static string DtypeOf(Type type) =>
        type == typeof(string) ? "string"
        : type == typeof(bool) ? "bool"
        : type == typeof(int) ? "int32"
        : type == typeof(long) ? "int64"
        : type == typeof(float) ? "float32"
        : type == typeof(double) ? "float64"
        : throw new ArgumentException(
            $"Dataset columns hold string, bool, int, long, float, double or arrays of those; {type.Name} is not supported.");
}

/// <summary>A column whose cells are lists (e.g. input_ids).</summary>
public sealed record Sequence(FeatureType Feature) : FeatureType
{
    public override string ToString() => $"Sequence(feature={Feature})";
}

/// <summary>
/// Integer class ids with names (HF <c>datasets.ClassLabel</c>): <see cref="Str2Int"/> and
/// <see cref="Int2Str"/> convert between them. Ids run from 0 to <see cref="NumClasses"/> − 1; −1 marks
/// a missing label, as in Hugging Face datasets.
/// </summary>
public sealed record ClassLabel : FeatureType
{
    private readonly string[] names;
    private readonly Dictionary<string, int> ids;

    /// <param name="names">The class names in id order, e.g. ["neg", "pos"].</param>
    public ClassLabel(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        this.names = names.ToArray();
        if (this.names.Length == 0)
        {
            throw new ArgumentException("A ClassLabel needs at least one class name.", nameof(names));
        }
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < this.names.Length; i++)
        {
            if (string.IsNullOrEmpty(this.names[i]))
            {
                throw new ArgumentException($"ClassLabel name {i} is empty.", nameof(names));
            }
            if (!ids.TryAdd(this.names[i], i))
            {
                throw new ArgumentException($"ClassLabel name '{this.names[i]}' appears twice.", nameof(names));
            }
        }
    }

    /// <summary>A ClassLabel with the names "0", "1", …, as HF's ClassLabel(num_classes=n).</summary>
    public static ClassLabel FromNumClasses(int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        return new ClassLabel(Enumerable.Range(0, numClasses).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    public IReadOnlyList<string> Names => names;

    public int NumClasses => names.Length;

    /// <summary>The id of a class name; throws for an unknown name, listing the known ones.</summary>
    public int Str2Int(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ids.TryGetValue(name, out int id))
        {
            return id;
        }
        throw new ArgumentException($"Invalid class label '{name}': the ClassLabel names are [{string.Join(", ", names)}].", nameof(name));
    }

    public bool TryStr2Int(string name, out int id) => ids.TryGetValue(name, out id);

    /// <summary>The name of a class id; throws for an id outside 0..NumClasses−1.</summary>
    public string Int2Str(int id)
    {
        if ((uint)id >= (uint)names.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Class id {id} is outside 0..{names.Length - 1} (names [{string.Join(", ", names)}]).");
        }
        return names[id];
    }

    /// <summary>HF's id2label mapping for a model config.</summary>
    public IReadOnlyDictionary<int, string> Id2Label() => names.Select((n, i) => (n, i)).ToDictionary(p => p.i, p => p.n);

    /// <summary>HF's label2id mapping for a model config.</summary>
    public IReadOnlyDictionary<string, int> Label2Id() => new Dictionary<string, int>(ids, StringComparer.Ordinal);

    public bool Equals(ClassLabel? other) => other is not null && names.AsSpan().SequenceEqual(other.names);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var name in names) hash.Add(name);
        return hash.ToHashCode();
    }

    public override string ToString() => $"ClassLabel(names=[{string.Join(", ", names.Select(n => $"'{n}'"))}])";
}

/// <summary>The ordered column → feature type map of a dataset (HF <c>datasets.Features</c>).</summary>
public sealed class Features : IReadOnlyDictionary<string, FeatureType>
{
    private readonly List<KeyValuePair<string, FeatureType>> items;

    public Features(IEnumerable<KeyValuePair<string, FeatureType>> items)
    {
        this.items = items.ToList();
    }

    public FeatureType this[string key] =>
        TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No column '{key}' in the features [{string.Join(", ", Keys)}].");

    public IEnumerable<string> Keys => items.Select(p => p.Key);

    public IEnumerable<FeatureType> Values => items.Select(p => p.Value);

    public int Count => items.Count;

    public bool ContainsKey(string key) => items.Exists(p => p.Key == key);

    public bool TryGetValue(string key, out FeatureType value)
    {
        foreach (var pair in items)
        {
            if (pair.Key == key)
            {
                value = pair.Value;
                return true;
            }
        }
        value = null!;
        return false;
    }

    public IEnumerator<KeyValuePair<string, FeatureType>> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "{" + string.Join(", ", items.Select(p => $"'{p.Key}': {p.Value}")) + "}";
}
