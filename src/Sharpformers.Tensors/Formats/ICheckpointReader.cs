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
}
