namespace Sharpformers.Tensors.Formats;

/// <summary>Name, element type and shape of one tensor stored in a checkpoint.</summary>
public sealed record TensorInfo(string Name, DType DType, IReadOnlyList<long> Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A checkpoint's tensors by name, independent of the file format (model.safetensors, sharded
/// safetensors, pytorch_model.bin). Readers validate what they expose: a name listed in
/// <see cref="Tensors"/> can be read without further format errors.
/// </summary>
public interface ICheckpointReader : IDisposable
{
    /// <summary>The file (or index file) this reader was opened on, for error messages.</summary>
    string SourcePath { get; }

    IReadOnlyList<TensorInfo> Tensors { get; }

    bool Contains(string name);

    /// <summary>
    /// Writes the named tensor, converted to float32 (fp16/bf16/f64 upcast or cast), into
    /// <paramref name="destination"/> in row-major order. Throws KeyNotFoundException for an unknown
    /// name and ArgumentException when the destination length differs from the element count.
    /// </summary>
    void ReadAsFloat32(string name, Span<float> destination);

    /// <summary>
    /// Writes the named tensor's elements unconverted, in their stored <see cref="TensorInfo.DType"/>,
    /// little-endian and row-major, into <paramref name="destination"/> (element count × dtype size
    /// bytes): what a format conversion copies so that every tensor stays bit-identical. The default
    /// serves float32 tensors through <see cref="ReadAsFloat32"/>; readers of other dtypes override it.
    /// </summary>
    void ReadRaw(string name, Span<byte> destination)
    {
        var info = this.GetInfo(name);
        if (info.DType != DType.F32 || !BitConverter.IsLittleEndian)
        {
            throw new NotSupportedException($"'{SourcePath}' cannot hand out tensor '{name}' ({info.DType.SafetensorsName()}) unconverted.");
        }
        ReadAsFloat32(name, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(destination));
    }

    /// <summary>
    /// Zero-copy access to a tensor stored as little-endian float32 in memory the reader keeps mapped:
    /// true with the elements (writable copy-on-write, valid until the reader is disposed), or false
    /// when the format or this tensor needs a conversion or copy (then use <see cref="ReadAsFloat32"/>).
    /// </summary>
    bool TryGetFloat32Memory(string name, out Memory<float> memory)
    {
        memory = default;
        return false;
    }
}

/// <summary>Conveniences over any <see cref="ICheckpointReader"/>.</summary>
public static class CheckpointReaderExtensions
{
    public static TensorInfo GetInfo(this ICheckpointReader reader, string name) =>
        reader.Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"'{reader.SourcePath}' has no tensor named '{name}'.");

    /// <summary>The named tensor as float32: zero-copy when the reader can, else converted into managed memory.</summary>
    public static Tensor ReadTensor(this ICheckpointReader reader, string name)
    {
        var info = reader.GetInfo(name);
        var shape = new int[info.Shape.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (info.Shape[i] > int.MaxValue) throw new InvalidDataException($"'{reader.SourcePath}': tensor '{name}' is too large for a float32 tensor.");
            shape[i] = (int)info.Shape[i];
        }
        if (reader.TryGetFloat32Memory(name, out var memory)) return new Tensor(memory, shape);
        var tensor = Tensor.Uninitialized(shape);
        reader.ReadAsFloat32(name, tensor.Span);
        return tensor;
    }
}
