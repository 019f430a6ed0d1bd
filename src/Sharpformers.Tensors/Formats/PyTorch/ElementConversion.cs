using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>Checkpoint element types to float32, in either byte order (torch records it per archive).</summary>
internal static class ElementConversion
{
    /// <summary>Converts <paramref name="destination"/>.Length contiguous elements from <paramref name="source"/>.</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, DType dtype, bool bigEndian, Span<float> destination)
    {
        int size = dtype.SizeOf();
        if (source.Length != destination.Length * size) throw new ArgumentException("Source and destination lengths differ.", nameof(source));
        if (!bigEndian && BitConverter.IsLittleEndian)
        {
            switch (dtype)
            {
                case DType.F32:
                    MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                    return;
                case DType.F16:
                {
                    var halves = MemoryMarshal.Cast<byte, Half>(source);
                    for (int i = 0; i < halves.Length; i++) destination[i] = (float)halves[i];
                    return;
                }
                case DType.BF16:
                {
                    var bits = MemoryMarshal.Cast<byte, ushort>(source);
                    for (int i = 0; i < bits.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                    return;
                }
            }
        }
        for (int i = 0; i < destination.Length; i++) destination[i] = One(source.Slice(i * size, size), dtype, bigEndian);
    }

    /// <summary>One element at the start of <paramref name="bytes"/>.</summary>
    public static float One(ReadOnlySpan<byte> bytes, DType dtype, bool bigEndian) => dtype switch
    {
        DType.F32 => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
        DType.F64 => (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes)),
        DType.F16 => (float)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(bytes) : BinaryPrimitives.ReadHalfLittleEndian(bytes)),
        DType.BF16 => BitConverter.Int32BitsToSingle((bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes)) << 16),
        DType.I64 => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes),
        DType.I32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes),
        DType.I16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(bytes) : BinaryPrimitives.ReadInt16LittleEndian(bytes),
        DType.I8 => (sbyte)bytes[0],
        DType.U8 => bytes[0],
        DType.Bool => bytes[0] != 0 ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };
}
