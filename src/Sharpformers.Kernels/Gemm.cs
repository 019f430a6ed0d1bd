namespace Sharpformers.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major spans, destination last:
/// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C.
/// When beta is 0, C is overwritten (whatever it held, NaN included), as in BLAS.
/// </summary>
public static class Gemm
{
    public static void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        // Placeholder routing until the packed, blocked kernel lands (issue 3): the reference is correct but slow.
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
}
