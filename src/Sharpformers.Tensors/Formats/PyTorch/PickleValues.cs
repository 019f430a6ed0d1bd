using System.Numerics;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>A module-level name the pickle refers to (GLOBAL / STACK_GLOBAL), already checked against the allow-list.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";

    public override string ToString() => FullName;
}

/// <summary>A Python tuple.</summary>
internal sealed class PickleTuple(object?[] items)
{
    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];
}

/// <summary>A Python list.</summary>
internal sealed class PickleList : List<object?>;

/// <summary>A Python dict or OrderedDict: insertion-ordered, keys compared by value.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> index = new(PickleKeyComparer.Instance);
    private readonly List<KeyValuePair<object?, object?>> items = [];

    public IReadOnlyList<KeyValuePair<object?, object?>> Items => items;

    public void Set(object? key, object? value)
    {
        object boxed = key ?? PickleKeyComparer.NoneKey;
        if (index.TryGetValue(boxed, out int at))
        {
            items[at] = new KeyValuePair<object?, object?>(key, value);
            return;
        }
        index[boxed] = items.Count;
        items.Add(new KeyValuePair<object?, object?>(key, value));
    }
}

/// <summary>Python equality for hashable keys: str, int (any size), float, bool, bytes, tuples of those, None.</summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>
{
    public static readonly PickleKeyComparer Instance = new();
    public static readonly object NoneKey = new();

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (string a, string b) => a == b,
        (PickleTuple a, PickleTuple b) => a.Count == b.Count && a.Items.Zip(b.Items).All(p => Equals(p.First ?? NoneKey, p.Second ?? NoneKey)),
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
        _ when AsNumber(x) is { } a && AsNumber(y) is { } b => a == b,
        _ => ReferenceEquals(x, y),
    };

    public int GetHashCode(object obj) => obj switch
    {
        string s => s.GetHashCode(StringComparison.Ordinal),
        PickleTuple t => t.Items.Aggregate(17, (h, item) => h * 31 + GetHashCode(item ?? NoneKey)),
        byte[] b => b.Length,
        _ when AsNumber(obj) is { } n => n.GetHashCode(),
        _ => obj.GetHashCode(),
    };

    private static BigInteger? AsNumber(object? value) => value switch
    {
        long l => l,
        BigInteger b => b,
        bool flag => flag ? 1 : 0,
        double d when double.IsFinite(d) && Math.Floor(d) == d => new BigInteger(d),
        _ => null,
    };
}

/// <summary>A storage record of the archive (data/&lt;key&gt;) as the persistent id describes it.</summary>
internal sealed record TorchStorage(string Key, DType DType, string TypeName, string Location, long ElementCount);

/// <summary>A tensor: a view (offset, sizes, strides in elements) into a storage.</summary>
internal sealed record TorchTensor(TorchStorage Storage, long Offset, long[] Size, long[] Stride);
