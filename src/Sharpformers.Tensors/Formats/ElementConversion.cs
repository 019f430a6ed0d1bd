using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// Checkpoint element bytes to float32 and back, for every reader and writer (safetensors is always
/// little-endian; torch records the byte order per archive). Widening fp16/bf16 to float32 is exact;
/// narrowing rounds to nearest, ties to even, as torch's <c>.half()</c> / <c>.bfloat16()</c> do.
/// </summary>
public static class ElementConversion
{
    /// <summary>Converts <paramref name="destination"/>.Length contiguous elements of <paramref name="dtype"/> from <paramref name="source"/>.</summary>
    public static void ToFloat32(DType dtype, ReadOnlySpan<byte> source, Span<float> destination, bool bigEndian = false)
    {
        int size = dtype.SizeOf();
        if ((long)destination.Length * size != source.Length)
        {
            throw new ArgumentException(
                $"{source.Length} bytes of {dtype.SafetensorsName()} hold {source.Length / size} elements, the destination has {destination.Length}.", nameof(destination));
        }
        if (bigEndian == !BitConverter.IsLittleEndian)
        {
            // Native byte order: reinterpret instead of decoding element by element.
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
                    // bfloat16 is the top half of a float32: widening is exact.
                    var bits = MemoryMarshal.Cast<byte, ushort>(source);
                    for (int i = 0; i < bits.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                    return;
                }
            }
        }
        for (int i = 0; i < destination.Length; i++) destination[i] = One(source.Slice(i * size, size), dtype, bigEndian);
    }

    /// <summary>One element at the start of <paramref name="bytes"/>.</summary>
    public static float One(ReadOnlySpan<byte> bytes, DType dtype, bool bigEndian = false) => dtype switch
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

    /// <summary>
    /// float32 values as little-endian <paramref name="dtype"/> bytes (F32, F16 or BF16), rounding to
    /// nearest even; what saving a model in half precision writes.
    /// </summary>
    public static void FromFloat32(ReadOnlySpan<float> source, DType dtype, Span<byte> destination)
    {
        int size = dtype.SizeOf();
        if ((long)source.Length * size != destination.Length)
        {
            throw new ArgumentException($"{source.Length} elements of {dtype.SafetensorsName()} take {(long)source.Length * size} bytes, the destination has {destination.Length}.", nameof(destination));
        }
        switch (dtype)
        {
            case DType.F32:
                for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], source[i]);
                break;
            case DType.F16:
                for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)source[i]);
                break;
            case DType.BF16:
                for (int i = 0; i < source.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], ToBFloat16Bits(source[i]));
                break;
            default:
                throw new NotSupportedException($"Converting float32 to {dtype.SafetensorsName()} is not supported (only F32, F16 and BF16).");
        }
    }

    /// <summary>The bfloat16 nearest to <paramref name="value"/> (ties to even; NaN stays a quiet NaN), as c10::BFloat16 rounds.</summary>
    public static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
