namespace Sharpformers.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major spans, destination last:
/// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C.
/// When beta is 0, C is overwritten (whatever it held, NaN included), as in BLAS; when alpha is 0 or
/// k is 0, A and B are not read and C = beta · C.
/// Packed, cache-blocked and multi-threaded (see GemmDriver / GemmRunner); AVX-512, AVX2+FMA or
/// scalar kernels chosen at run time. Results do not depend on the thread count: every element of C is
/// summed in the same order whichever thread computes it.
/// </summary>
public static class Gemm
{
    /// <summary>The instruction set the fast paths use on this machine.</summary>
    public static GemmIsa Isa => GemmDispatch.Current;

    public static unsafe void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        GemmChecks.Dimensions(m, n, k);
        GemmChecks.Operand(transA, m, k, a.Length, lda, nameof(a));
        GemmChecks.Operand(transB, k, n, b.Length, ldb, nameof(b));
        GemmChecks.Destination(m, n, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(m, n, beta, pc, ldc);
                return;
            }
            switch (GemmDispatch.Current)
            {
                case GemmIsa.Avx512:
                    GemmRunner<GemmKernelsAvx512>.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                case GemmIsa.Avx2:
                    GemmRunner<GemmKernelsAvx2>.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
                default:
                    GemmRunner<GemmKernelsScalar>.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                    break;
            }
        }
    }

    /// <summary>
    /// Packs op(B) (k, n) once for <see cref="Sgemm(Transpose, int, int, int, float, ReadOnlySpan{float}, int, PackedMatrix, float, Span{float}, int)"/>.
    /// For a weight W stored (out, in) used as y = x·Wᵀ: <c>PackB(Transpose.Yes, in, out, W, in)</c>.
    /// </summary>
    public static unsafe PackedMatrix PackB(Transpose transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        if (k < 0) KernelThrow.Argument(nameof(k), "k must be non-negative.");
        if (n < 0) KernelThrow.Argument(nameof(n), "n must be non-negative.");
        GemmChecks.Operand(transB, k, n, b.Length, ldb, nameof(b));
        var isa = GemmDispatch.Current;
        var layout = isa switch
        {
            GemmIsa.Avx512 => GemmLayout.For<GemmKernelsAvx512>(k, n),
            GemmIsa.Avx2 => GemmLayout.For<GemmKernelsAvx2>(k, n),
            _ => GemmLayout.For<GemmKernelsScalar>(k, n),
        };
        var data = new AlignedBuffer(layout.PackedLength);
        if (layout.PackedLength > 0)
        {
            fixed (float* pb = b)
            {
                int threads = KernelParallel.AvailableThreads;
                switch (isa)
                {
                    case GemmIsa.Avx512:
                        GemmRunner<GemmKernelsAvx512>.PackB(layout, transB, pb, ldb, data.Pointer, threads);
                        break;
                    case GemmIsa.Avx2:
                        GemmRunner<GemmKernelsAvx2>.PackB(layout, transB, pb, ldb, data.Pointer, threads);
                        break;
                    default:
                        GemmRunner<GemmKernelsScalar>.PackB(layout, transB, pb, ldb, data.Pointer, threads);
                        break;
                }
            }
        }
        return new PackedMatrix(layout, isa, data);
    }

    /// <summary>C (m, n) = alpha · op(A) (m, k) · B (k, n) + beta · C, with B packed by <see cref="PackB"/>.</summary>
    public static unsafe void Sgemm(
        Transpose transA, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, PackedMatrix b,
        float beta, Span<float> c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        GemmChecks.Dimensions(m, n, k);
        if (b.Rows != k || b.Columns != n)
        {
            KernelThrow.Argument(nameof(b), $"Packed matrix is ({b.Rows}, {b.Columns}) but the product needs op(B) of shape ({k}, {n}).");
        }
        GemmChecks.Operand(transA, m, k, a.Length, lda, nameof(a));
        GemmChecks.Destination(m, n, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(m, n, beta, pc, ldc);
                return;
            }
            switch (b.Isa)
            {
                case GemmIsa.Avx512:
                    GemmRunner<GemmKernelsAvx512>.RunPacked(transA, m, alpha, pa, lda, b, beta, pc, ldc);
                    break;
                case GemmIsa.Avx2:
                    GemmRunner<GemmKernelsAvx2>.RunPacked(transA, m, alpha, pa, lda, b, beta, pc, ldc);
                    break;
                default:
                    GemmRunner<GemmKernelsScalar>.RunPacked(transA, m, alpha, pa, lda, b, beta, pc, ldc);
                    break;
            }
        }
    }

    /// <summary>
    /// <paramref name="batchCount"/> independent SGEMMs; operand i starts at i · stride in each span
    /// (attention: per (batch, head) QKᵀ and P·V).
    /// </summary>
    public static void SgemmStridedBatched(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batchCount)
    {
        for (int i = 0; i < batchCount; i++)
        {
            Sgemm(transA, transB, m, n, k, alpha,
                a[(int)(i * strideA)..], lda, b[(int)(i * strideB)..], ldb,
                beta, c[(int)(i * strideC)..], ldc);
        }
    }

    private static unsafe void ScaleC(int m, int n, float beta, float* c, nint ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f)
            {
                for (int j = 0; j < row.Length; j++) row[j] *= beta;
            }
        }
    }
}
