using System.Runtime.InteropServices;
using Sharpformers.Kernels;

namespace Sharpformers.Tensors;

/// <summary>
/// A float32 tensor: a row-major shape over contiguous storage. The storage is any
/// <see cref="Memory{T}"/>: a managed array (activations), aligned native memory, or a tensor's bytes
/// in a memory-mapped checkpoint (zero-copy weights). Reshape, <see cref="this[int]"/> and
/// <see cref="Slice"/> along the first dimension are views over the same storage, never copies.
/// </summary>
public sealed class Tensor : ITensor
{
    private readonly int[] shape;

    public Tensor(Memory<float> memory, params ReadOnlySpan<int> shape)
    {
        int count = TensorShape.ElementCount(shape);
        if (memory.Length != count)
        {
            throw new ArgumentException(
                $"Storage holds {memory.Length} elements but shape {TensorShape.Format(shape)} needs {count}.", nameof(memory));
        }
        Memory = memory;
        this.shape = shape.ToArray();
    }

    /// <summary>The elements in row-major order; writable (weights from a checkpoint are mapped copy-on-write).</summary>
    public Memory<float> Memory { get; }

    public Span<float> Span => Memory.Span;

    public DType DType => DType.F32;

    public IReadOnlyList<int> Shape => shape;

    public int Rank => shape.Length;

    public int Length => Memory.Length;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => shape[TensorShape.NormalizeDim(dim, shape.Length)];

    // ---------------- creation ----------------

    /// <summary>A zero-filled tensor in managed memory.</summary>
    public static Tensor Zeros(params ReadOnlySpan<int> shape) => new(new float[TensorShape.ElementCount(shape)], shape);

    /// <summary>A tensor in managed memory whose contents are unspecified (for outputs a kernel overwrites).</summary>
    public static Tensor Uninitialized(params ReadOnlySpan<int> shape) =>
        new(GC.AllocateUninitializedArray<float>(TensorShape.ElementCount(shape)), shape);

    public static Tensor Full(float value, params ReadOnlySpan<int> shape)
    {
        var data = GC.AllocateUninitializedArray<float>(TensorShape.ElementCount(shape));
        data.AsSpan().Fill(value);
        return new Tensor(data, shape);
    }

    /// <summary>Wraps <paramref name="data"/> without copying; a one-dimensional tensor when no shape is given.</summary>
    public static Tensor FromArray(float[] data, params ReadOnlySpan<int> shape) =>
        shape.IsEmpty ? new Tensor(data, data.Length) : new Tensor(data, shape);

    /// <summary>Copies a rectangular 2-D array.</summary>
    public static Tensor FromArray(float[,] data)
    {
        int rows = data.GetLength(0), cols = data.GetLength(1);
        var flat = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                flat[r * cols + c] = data[r, c];
        return new Tensor(flat, rows, cols);
    }

    /// <summary>Copies rows of equal length into a (rows, cols) tensor.</summary>
    public static Tensor FromRows(IReadOnlyList<IReadOnlyList<float>> rows)
    {
        int cols = rows.Count == 0 ? 0 : rows[0].Count;
        var flat = new float[rows.Count * cols];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].Count != cols) throw new ArgumentException($"Row {r} has {rows[r].Count} values, row 0 has {cols}.", nameof(rows));
            for (int c = 0; c < cols; c++) flat[r * cols + c] = rows[r][c];
        }
        return new Tensor(flat, rows.Count, cols);
    }

    /// <summary>A zero-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(float value) => new(new[] { value }, ReadOnlySpan<int>.Empty);

    // ---------------- views ----------------

    /// <summary>The same storage under another shape (one dimension may be -1).</summary>
    public Tensor Reshape(params ReadOnlySpan<int> newShape) => new(Memory, TensorShape.Resolve(newShape, Length, shape));

    /// <summary>The sub-tensor at <paramref name="index"/> along the first dimension (a view; rank drops by one).</summary>
    [System.Runtime.CompilerServices.IndexerName("Row")]
    public Tensor this[int index]
    {
        get
        {
            if (shape.Length == 0) throw new InvalidOperationException("A scalar tensor cannot be indexed.");
            int i = index < 0 ? index + shape[0] : index;
            if ((uint)i >= (uint)shape[0]) throw new IndexOutOfRangeException($"Index {index} is out of range for dimension 0 of size {shape[0]}.");
            int inner = shape[0] == 0 ? 0 : Length / shape[0];
            return new Tensor(Memory.Slice(i * inner, inner), shape.AsSpan(1));
        }
    }

    /// <summary>Rows [start, start + length) along the first dimension (a view).</summary>
    public Tensor Slice(int start, int length)
    {
        if (shape.Length == 0) throw new InvalidOperationException("A scalar tensor cannot be sliced.");
        if (start < 0 || length < 0 || start + length > shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + length}) are outside dimension 0 of size {shape[0]}.");
        }
        int inner = shape[0] == 0 ? 0 : Length / shape[0];
        var newShape = shape.ToArray();
        newShape[0] = length;
        return new Tensor(Memory.Slice(start * inner, length * inner), newShape);
    }

    // ---------------- element access ----------------

    /// <summary>The element at a full index (negative components count from the end).</summary>
    public float At(params ReadOnlySpan<int> index) => Span[TensorShape.Offset(shape, index)];

    public void Set(float value, params ReadOnlySpan<int> index) => Span[TensorShape.Offset(shape, index)] = value;

    /// <summary>The value of a one-element tensor (torch's .item()).</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor; this one has shape {TensorShape.Format(shape)}.");
        return Span[0];
    }

    public float[] ToArray() => Memory.ToArray();

    /// <summary>Rows of a 2-D tensor as arrays.</summary>
    public float[][] ToJaggedArray()
    {
        if (shape.Length != 2) throw new InvalidOperationException($"ToJaggedArray needs a 2-D tensor; this one has shape {TensorShape.Format(shape)}.");
        var rows = new float[shape[0]][];
        for (int r = 0; r < shape[0]; r++) rows[r] = Memory.Slice(r * shape[1], shape[1]).ToArray();
        return rows;
    }

    /// <summary>A copy in fresh managed memory.</summary>
    public Tensor Clone() => new(Memory.ToArray(), shape);

    public void CopyTo(Tensor destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"Destination has {destination.Length} elements, source {Length}.", nameof(destination));
        }
        Span.CopyTo(destination.Span);
    }

    // ---------------- math over the last dimension ----------------

    /// <summary>Softmax over <paramref name="dim"/>, which must be the last dimension (the one logits live in).</summary>
    public Tensor Softmax(int dim = -1)
    {
        RequireLastDim(dim, nameof(Softmax));
        var result = Uninitialized(shape);
        if (Length > 0) Kernels.Softmax.Rows(Span, shape[^1], result.Span);
        return result;
    }

    /// <summary>Element-wise logistic sigmoid.</summary>
    public Tensor Sigmoid()
    {
        var result = Uninitialized(shape);
        Activations.Sigmoid(Span, result.Span);
        return result;
    }

    /// <summary>Indices of the maxima along <paramref name="dim"/> (last dimension), first on ties, as torch.argmax.</summary>
    public IntTensor ArgMax(int dim = -1)
    {
        RequireLastDim(dim, nameof(ArgMax));
        int cols = shape[^1];
        if (cols == 0) throw new InvalidOperationException("ArgMax over an empty dimension.");
        int rows = Length / cols;
        var result = new int[rows];
        for (int r = 0; r < rows; r++) result[r] = Reductions.ArgMax(Span.Slice(r * cols, cols));
        return new IntTensor(result, shape.AsSpan(0, shape.Length - 1));
    }

    private void RequireLastDim(int dim, string operation)
    {
        if (shape.Length == 0) throw new InvalidOperationException($"{operation} needs at least one dimension.");
        if (TensorShape.NormalizeDim(dim, shape.Length) != shape.Length - 1)
        {
            throw new NotSupportedException($"{operation} is implemented over the last dimension (dim=-1); got dim={dim} for shape {TensorShape.Format(shape)}.");
        }
    }

    /// <summary>torch-style text: tensor([[ 0.1234, -1.5000], ...]) with 4 decimals, summarised beyond 1000 elements.</summary>
    public override string ToString() => TensorFormatting.Format(Span, shape, "F4");

    /// <summary>The elements as bytes in little-endian float32 order (safetensors' F32 layout on this CPU).</summary>
    internal ReadOnlySpan<byte> AsBytes() => MemoryMarshal.AsBytes((ReadOnlySpan<float>)Span);
}
