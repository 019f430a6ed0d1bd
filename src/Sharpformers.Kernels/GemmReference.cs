namespace Sharpformers.Kernels;

/// <summary>
/// The naive triple-loop SGEMM that the fast <see cref="Gemm"/> is tested against. Row-major:
/// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C. Accumulates in double so it is a
/// trustworthy reference. When beta is 0, C is overwritten (NaNs in C do not propagate), as in BLAS.
/// </summary>
public static class GemmReference
{
    public static void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        GemmChecks.Dimensions(m, n, k);
        GemmChecks.Operand(transA, m, k, a.Length, lda, nameof(a));
        GemmChecks.Operand(transB, k, n, b.Length, ldb, nameof(b));
        GemmChecks.Destination(m, n, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                    float bv = transB == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                    sum += (double)av * bv;
                }
                float prior = beta == 0f ? 0f : beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum) + prior;
            }
        }
    }
}
