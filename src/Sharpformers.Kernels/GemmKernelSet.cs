using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

[assembly: InternalsVisibleTo("Sharpformers.Kernels.Tests")]

namespace Sharpformers.Kernels;

/// <summary>The instruction set a GEMM runs with; a <see cref="PackedMatrix"/> is laid out for one of them.</summary>
public enum GemmIsa
{
    /// <summary>Plain scalar loops (no SIMD).</summary>
    Scalar,

    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2,

    /// <summary>512-bit AVX-512F.</summary>
    Avx512,
}

/// <summary>
/// One instruction set's micro-kernels and the panel geometry they need. The blocked driver is generic
/// over this (a struct type argument), so the JIT specialises it per set with direct calls.
/// Packed B panels are <see cref="PanelWidth"/> columns wide except the last, which is the remaining
/// width rounded up to <see cref="Granule"/> (one vector) and zero-padded.
/// </summary>
internal unsafe interface IGemmKernelSet
{
    /// <summary>Rows of C per micro-tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of a full packed B panel.</summary>
    static abstract int PanelWidth { get; }

    /// <summary>Columns per vector: panel widths are multiples of it.</summary>
    static abstract int Granule { get; }

    static abstract GemmIsa Isa { get; }

    /// <summary>
    /// C[rows, cols] = alpha · A[rows, kc] · Bpanel[kc, width] + bias + beta · C (beta == 0: C is overwritten).
    /// A element (r, p) is at a[r·rsA + p·csA]; B panel row p is at b + p·bStride (width readable floats);
    /// bias (cols floats, one per column) may be null.
    /// </summary>
    static abstract void Tile(int width, int kc, float* a, nint rsA, nint csA, int rows, float* b, nint bStride, float* c, nint ldc, int cols, float alpha, float beta, float* bias);
}

/// <summary>
/// The portable fallback: a 4×4 register block in scalar code. Slow (a few GFLOP/s) but exact to the
/// same contract, so the blocked driver and its packing are exercised on every machine.
/// </summary>
internal readonly unsafe struct GemmKernelsScalar : IGemmKernelSet
{
    public static int MR => 4;

    public static int PanelWidth => 4;

    public static int Granule => 1;

    public static GemmIsa Isa => GemmIsa.Scalar;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int width, int kc, float* a, nint rsA, nint csA, int rows, float* b, nint bStride, float* c, nint ldc, int cols, float alpha, float beta, float* bias)
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            float* bRow = b + p * bStride;
            for (int r = 0; r < rows; r++)
            {
                float x = a[r * rsA + p * csA];
                for (int j = 0; j < cols; j++) acc[r * 4 + j] += x * bRow[j];
            }
        }
        for (int r = 0; r < rows; r++)
        {
            float* cRow = c + r * ldc;
            for (int j = 0; j < cols; j++)
            {
                float t = MathF.FusedMultiplyAdd(acc[r * 4 + j], alpha, bias is null ? 0f : bias[j]);
                cRow[j] = beta == 0f ? t : MathF.FusedMultiplyAdd(beta, cRow[j], t);
            }
        }
    }
}

/// <summary>Which kernel set this machine runs (and a test hook to force a narrower one).</summary>
internal static class GemmDispatch
{
    public static GemmIsa Detected { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? GemmIsa.Avx512
        : Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2
        : GemmIsa.Scalar;

    [ThreadStatic]
    private static GemmIsa? forced;

    /// <summary>
    /// Tests set this to run the AVX2 or scalar path on an AVX-512 machine; null restores detection.
    /// Per thread, so a test forcing a path does not change what concurrent callers run.
    /// </summary>
    public static GemmIsa? Forced
    {
        get => forced;
        set
        {
            if (value is { } isa && isa > Detected)
            {
                throw new NotSupportedException($"This CPU cannot run the {isa} GEMM kernels (detected {Detected}).");
            }
            forced = value;
        }
    }

    public static GemmIsa Current => forced ?? Detected;
}
