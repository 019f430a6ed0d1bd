namespace Sharpformers.Kernels;

/// <summary>
/// A constant right-hand GEMM operand op(B) (k, n), packed once into the panel layout the micro-kernel
/// streams (see <see cref="Gemm.PackB"/>), for weights multiplied again and again: a linear layer
/// y = x·Wᵀ with W stored (out, in) packs <c>Gemm.PackB(Transpose.Yes, in, out, W, in)</c> at load time and
/// then runs <c>Gemm.Sgemm(Transpose.No, tokens, out, in, 1, x, in, packedW, 0, y, out)</c>, skipping the
/// per-call packing that dominates when there are few rows (batch 1 × 16 tokens).
/// Immutable after packing, so it can be shared by concurrent callers. Its layout belongs to the
/// instruction set it was packed for (<see cref="Isa"/>).
/// </summary>
public sealed class PackedMatrix
{
    internal PackedMatrix(GemmLayout layout, GemmIsa isa, NativeWeightBuffer data)
    {
        Layout = layout;
        Isa = isa;
        Data = data;
    }

    /// <summary>k: rows of op(B).</summary>
    public int Rows => Layout.K;

    /// <summary>n: columns of op(B).</summary>
    public int Columns => Layout.N;

    /// <summary>The kernel set the layout was made for.</summary>
    public GemmIsa Isa { get; }

    /// <summary>Bytes held by the packed copy (k × n rounded up to a whole vector, as float32).</summary>
    public long SizeInBytes => Layout.PackedLength * sizeof(float);

    internal GemmLayout Layout { get; }

    internal NativeWeightBuffer Data { get; }

    internal unsafe float* Pointer => (float*)Data.Pointer;
}
