using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// An element-wise activation a GEMM applies to its result in the epilogue, C = act(alpha·A·B + bias + beta·C),
/// while each micro-tile is still in L1: a linear layer followed by its activation (BERT's
/// intermediate dense + GELU) costs no second pass over the (tokens, 3072) output.
/// </summary>
public enum EpilogueActivation
{
    None,

    /// <summary>Exact-erf GELU, as <see cref="Activations.Gelu"/>.</summary>
    Gelu,

    /// <summary>Tanh-approximation GELU, as <see cref="Activations.GeluTanh"/>.</summary>
    GeluTanh,

    /// <summary>x·sigmoid(1.702·x), as <see cref="Activations.QuickGelu"/>.</summary>
    QuickGelu,

    Relu,

    /// <summary>x·sigmoid(x), as <see cref="Activations.Silu"/>.</summary>
    Silu,

    Tanh,

    Sigmoid,
}

/// <summary>
/// Applies an <see cref="EpilogueActivation"/> in place to a small block of C (a micro-tile). Every
/// element goes through the same vector code as the stand-alone <see cref="Activations"/> kernels (a
/// ragged tail through a masked vector), so a fused product gives the same bits as the product
/// followed by the activation pass.
/// </summary>
public static unsafe class GemmEpilogue
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(EpilogueActivation activation, float* c, nint ldc, int rows, int cols)
    {
        switch (activation)
        {
            case EpilogueActivation.None: return;
            case EpilogueActivation.Gelu: Apply<Activations.GeluOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.GeluTanh: Apply<Activations.GeluTanhOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.QuickGelu: Apply<Activations.QuickGeluOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.Relu: Apply<Activations.ReluOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.Silu: Apply<Activations.SiluOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.Tanh: Apply<Activations.TanhOp>(c, ldc, rows, cols); return;
            case EpilogueActivation.Sigmoid: Apply<Activations.SigmoidOp>(c, ldc, rows, cols); return;
            default: KernelThrow.Argument(nameof(activation), $"Unknown epilogue activation {activation}."); return;
        }
    }

    /// <summary>The activation of a span in place, with the same bits as the fused epilogue.</summary>
    public static void Apply(EpilogueActivation activation, Span<float> values)
    {
        fixed (float* p = values) Apply(activation, p, values.Length, 1, values.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply<TOp>(float* c, nint ldc, int rows, int cols) where TOp : struct, IUnaryOperator
    {
        var tail = stackalloc float[Vector256<float>.Count];
        for (int r = 0; r < rows; r++)
        {
            float* row = c + r * ldc;
            int j = 0;
            if (SimdLevel.Use512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            {
                for (; j <= cols - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    Vector512.Store(TOp.Invoke(Vector512.Load(row + j)), row + j);
                }
                if (j < cols)
                {
                    // Zero-padded lanes, as UnaryKernel's tail: lanes do not interact, so the live ones get the same bits.
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - j)).AsSingle();
                    var x = System.Runtime.Intrinsics.X86.Avx512F.MaskLoad(row + j, mask, Vector512<float>.Zero);
                    System.Runtime.Intrinsics.X86.Avx512F.MaskStore(row + j, mask, TOp.Invoke(x));
                }
                continue;
            }
            if (SimdLevel.Use256)
            {
                for (; j <= cols - Vector256<float>.Count; j += Vector256<float>.Count)
                {
                    Vector256.Store(TOp.Invoke(Vector256.Load(row + j)), row + j);
                }
                if (j < cols)
                {
                    for (int t = 0; t < Vector256<float>.Count; t++) tail[t] = j + t < cols ? row[j + t] : 0f;
                    Vector256.Store(TOp.Invoke(Vector256.Load(tail)), tail);
                    for (int t = 0; j + t < cols; t++) row[j + t] = tail[t];
                }
                continue;
            }
            for (; j < cols; j++) row[j] = TOp.Invoke(row[j]);
        }
    }
}
