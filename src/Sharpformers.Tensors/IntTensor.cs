namespace Sharpformers.Tensors;

/// <summary>
/// An int32 tensor for token ids, attention masks, token types and class labels. Row-major over
/// contiguous memory, with the same views as <see cref="Tensor"/>.
/// </summary>
public sealed class IntTensor : ITensor
{
    private readonly int[] shape;

    public IntTensor(Memory<int> memory, params ReadOnlySpan<int> shape)
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

    public Memory<int> Memory { get; }

    public Span<int> Span => Memory.Span;

    public DType DType => DType.I32;

    public IReadOnlyList<int> Shape => shape;

    public int Rank => shape.Length;

    public int Length => Memory.Length;

    public int Size(int dim) => shape[TensorShape.NormalizeDim(dim, shape.Length)];

    public static IntTensor Zeros(params ReadOnlySpan<int> shape) => new(new int[TensorShape.ElementCount(shape)], shape);

    public static IntTensor Full(int value, params ReadOnlySpan<int> shape)
    {
        var data = new int[TensorShape.ElementCount(shape)];
        data.AsSpan().Fill(value);
        return new IntTensor(data, shape);
    }

    /// <summary>Wraps <paramref name="data"/> without copying; one-dimensional when no shape is given.</summary>
    public static IntTensor FromArray(int[] data, params ReadOnlySpan<int> shape) =>
        shape.IsEmpty ? new IntTensor(data, data.Length) : new IntTensor(data, shape);

    /// <summary>Copies rows of equal length into a (rows, cols) tensor (e.g. padded input ids).</summary>
    public static IntTensor FromRows(IReadOnlyList<IReadOnlyList<int>> rows)
    {
        int cols = rows.Count == 0 ? 0 : rows[0].Count;
        var flat = new int[rows.Count * cols];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].Count != cols)
            {
                throw new ArgumentException($"Row {r} has {rows[r].Count} values, row 0 has {cols}; pad the rows to one length first.", nameof(rows));
            }
            for (int c = 0; c < cols; c++) flat[r * cols + c] = rows[r][c];
        }
        return new IntTensor(flat, rows.Count, cols);
    }

    public static IntTensor FromArray(int[,] data)
    {
        int rows = data.GetLength(0), cols = data.GetLength(1);
        var flat = new int[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                flat[r * cols + c] = data[r, c];
        return new IntTensor(flat, rows, cols);
    }

    public IntTensor Reshape(params ReadOnlySpan<int> newShape) => new(Memory, TensorShape.Resolve(newShape, Length, shape));

    [System.Runtime.CompilerServices.IndexerName("Row")]
    public IntTensor this[int index]
    {
        get
        {
            if (shape.Length == 0) throw new InvalidOperationException("A scalar tensor cannot be indexed.");
            int i = index < 0 ? index + shape[0] : index;
            if ((uint)i >= (uint)shape[0]) throw new IndexOutOfRangeException($"Index {index} is out of range for dimension 0 of size {shape[0]}.");
            int inner = shape[0] == 0 ? 0 : Length / shape[0];
            return new IntTensor(Memory.Slice(i * inner, inner), shape.AsSpan(1));
        }
    }

    public IntTensor Slice(int start, int length)
    {
        if (shape.Length == 0) throw new InvalidOperationException("A scalar tensor cannot be sliced.");
        if (start < 0 || length < 0 || start + length > shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + length}) are outside dimension 0 of size {shape[0]}.");
        }
        int inner = shape[0] == 0 ? 0 : Length / shape[0];
        var newShape = shape.ToArray();
        newShape[0] = length;
        return new IntTensor(Memory.Slice(start * inner, length * inner), newShape);
    }

    public int At(params ReadOnlySpan<int> index) => Span[TensorShape.Offset(shape, index)];

    public int Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor; this one has shape {TensorShape.Format(shape)}.");
        return Span[0];
    }

    public int[] ToArray() => Memory.ToArray();

    public IntTensor Clone() => new(Memory.ToArray(), shape);

    /// <summary>The values as float32 (e.g. 0/1 multi-hot labels given as integers).</summary>
    public Tensor ToFloat()
    {
        var result = new float[Length];
        var src = Span;
        for (int i = 0; i < result.Length; i++) result[i] = src[i];
        return new Tensor(result, shape);
    }

    public override string ToString()
    {
        var asFloat = new float[Length];
        var src = Span;
        for (int i = 0; i < asFloat.Length; i++) asFloat[i] = src[i];
        return TensorFormatting.Format(asFloat, shape, "F0");
    }
}
