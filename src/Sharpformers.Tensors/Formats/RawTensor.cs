using System.Buffers;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// A tensor as its raw little-endian bytes in any dtype (fp16, bf16, int64, …), for writers: what a
/// format conversion copies so that every value stays bit-identical, and how half-precision copies of
/// a model are written. Either holds its bytes, or reads them from a checkpoint only when written, so
/// converting a large model needs memory for one tensor at a time.
/// </summary>
public sealed class RawTensor : ITensor
{
    private readonly int[] shape;
    private readonly ReadOnlyMemory<byte> bytes;
    private readonly Action<Span<byte>>? fill;

    /// <summary>A tensor over <paramref name="bytes"/>, which must hold exactly the shape's elements of <paramref name="dtype"/>.</summary>
    public RawTensor(DType dtype, IReadOnlyList<int> shape, ReadOnlyMemory<byte> bytes)
        : this(dtype, shape)
    {
        if (bytes.Length != ByteCount)
        {
            throw new ArgumentException(
                $"A {dtype.SafetensorsName()} tensor of shape [{string.Join(", ", shape)}] takes {ByteCount} bytes, got {bytes.Length}.", nameof(bytes));
        }
        this.bytes = bytes;
    }

    private RawTensor(DType dtype, IReadOnlyList<int> shape, Action<Span<byte>> fill)
        : this(dtype, shape)
    {
        this.fill = fill;
    }

    private RawTensor(DType dtype, IReadOnlyList<int> shape)
    {
        DType = dtype;
        this.shape = shape.ToArray();
        long count = 1;
        foreach (int d in this.shape)
        {
            if (d < 0) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
            count = checked(count * d);
        }
        if (count > int.MaxValue) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has more than {int.MaxValue} elements.", nameof(shape));
        Length = (int)count;
        ByteCount = count * dtype.SizeOf();
    }

    public DType DType { get; }

    public IReadOnlyList<int> Shape => shape;

    public int Rank => shape.Length;

    public int Length { get; }

    /// <summary>Size of the data in bytes (elements × dtype size).</summary>
    public long ByteCount { get; }

    /// <summary>
    /// The named tensor of <paramref name="reader"/> in its stored dtype, read (through
    /// <see cref="ICheckpointReader.ReadRaw"/>) when written; the reader must stay open until then.
    /// </summary>
    public static RawTensor FromCheckpoint(ICheckpointReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var info = reader.GetInfo(name);
        var dims = new int[info.Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            if (info.Shape[i] > int.MaxValue) throw new InvalidDataException($"'{reader.SourcePath}': tensor '{name}' has a dimension of {info.Shape[i]}, too large.");
            dims[i] = (int)info.Shape[i];
        }
        return new RawTensor(info.DType, dims, destination => reader.ReadRaw(name, destination));
    }

    /// <summary>Writes the bytes to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        if (fill is null)
        {
            stream.Write(bytes.Span);
            return;
        }
        if (ByteCount > Array.MaxLength) throw new NotSupportedException($"A tensor of {ByteCount} bytes is too large to copy in one piece.");
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)ByteCount);
        try
        {
            var span = buffer.AsSpan(0, (int)ByteCount);
            fill(span);
            stream.Write(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
