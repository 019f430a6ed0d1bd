using System.Globalization;

namespace Sharpformers.Tensors;

/// <summary>Shape arithmetic and validation shared by <see cref="Tensor"/> and <see cref="IntTensor"/>.</summary>
public static class TensorShape
{
    /// <summary>The element count of a shape, checked: negative sizes or more than int.MaxValue elements are errors.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape {Format(shape)} has a negative dimension.", nameof(shape));
            count *= d;
            if (count > int.MaxValue) throw new ArgumentException($"Shape {Format(shape)} has more than {int.MaxValue} elements.", nameof(shape));
        }
        return (int)count;
    }

    /// <summary>Resolves one -1 in a reshape target against the element count.</summary>
    public static int[] Resolve(ReadOnlySpan<int> target, int elementCount, ReadOnlySpan<int> from)
    {
        var result = target.ToArray();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (inferred >= 0) throw new ArgumentException($"Reshape to {Format(target)}: only one dimension can be -1.", nameof(target));
                inferred = i;
            }
            else if (result[i] < 0)
            {
                throw new ArgumentException($"Reshape to {Format(target)}: dimension {i} is negative.", nameof(target));
            }
            else
            {
                known *= result[i];
            }
        }
        if (inferred >= 0)
        {
            if (known == 0 || elementCount % known != 0)
            {
                throw new ArgumentException($"Cannot reshape {Format(from)} ({elementCount} elements) to {Format(target)}.", nameof(target));
            }
            result[inferred] = (int)(elementCount / known);
        }
        else if (known != elementCount)
        {
            throw new ArgumentException($"Cannot reshape {Format(from)} ({elementCount} elements) to {Format(target)} ({known} elements).", nameof(target));
        }
        return result;
    }

    /// <summary>A dimension index with negative values counted from the end (torch style), checked.</summary>
    public static int NormalizeDim(int dim, int rank)
    {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Dimension {dim} is out of range for a tensor of rank {rank}.");
        return d;
    }

    /// <summary>"(2, 3)" as torch prints sizes.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 1) return $"({shape[0].ToString(CultureInfo.InvariantCulture)},)";
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "(" + string.Join(", ", parts) + ")";
    }

    /// <summary>Offset of a full index in row-major order, checked.</summary>
    internal static int Offset(ReadOnlySpan<int> shape, ReadOnlySpan<int> index)
    {
        if (index.Length != shape.Length)
        {
            throw new ArgumentException($"Index has {index.Length} components but the tensor has rank {shape.Length}.", nameof(index));
        }
        int offset = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            int v = index[i] < 0 ? index[i] + shape[i] : index[i];
            if ((uint)v >= (uint)shape[i])
            {
                throw new IndexOutOfRangeException($"Index {index[i]} is out of range for dimension {i} of size {shape[i]}.");
            }
            offset = offset * shape[i] + v;
        }
        return offset;
    }
}
