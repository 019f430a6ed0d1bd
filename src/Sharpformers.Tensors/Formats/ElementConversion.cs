using System.Buffers.Binary;

namespace Sharpformers.Tensors.Formats;

/// <summary>Little-endian raw checkpoint bytes of any <see cref="DType"/> to float32.</summary>
public static class ElementConversion
{
    public static void ToFloat32(DType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int size = dtype.SizeOf();
        if ((long)destination.Length * size != source.Length)
        {
            throw new ArgumentException($"{source.Length} bytes of {dtype.SafetensorsName()} hold {source.Length / size} elements, destination has {destination.Length}.", nameof(destination));
        }
        switch (dtype)
        {
            case DType.F32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                break;
            case DType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                break;
            case DType.BF16:
                // bfloat16 is the top half of a float32: widening is exact.
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]) << 16);
                break;
            case DType.F64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]);
                break;
            case DType.I64:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(source[(i * 8)..]);
                break;
            case DType.I32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]);
                break;
            case DType.I16:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(i * 2)..]);
                break;
            case DType.I8:
                for (int i = 0; i < destination.Length; i++) destination[i] = (sbyte)source[i];
                break;
            case DType.U8:
                for (int i = 0; i < destination.Length; i++) destination[i] = source[i];
                break;
            case DType.Bool:
                for (int i = 0; i < destination.Length; i++) destination[i] = source[i] != 0 ? 1f : 0f;
                break;
            default:
                throw new NotSupportedException($"Conversion from {dtype} to float32 is not supported.");
        }
    }
}
