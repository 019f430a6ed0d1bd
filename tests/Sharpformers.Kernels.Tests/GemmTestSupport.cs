using Sharpformers.Kernels;
using Xunit;

namespace Sharpformers.Kernels.Tests;

/// <summary>
/// Random operands and the comparison of a fast GEMM against <see cref="GemmReference"/>.
///
/// Tolerance: the reference sums in double, the fast kernels in float (FMA, in k blocks). The standard
/// forward-error bound of a float dot product of length k is γ_k · Σ|a_p·b_p| with γ_k ≈ k·u (u = 2⁻²⁴),
/// i.e. it scales with k and with the magnitude of the terms summed, not with the result (which can
/// cancel to ~0, making a plain relative check meaningless). So each element must satisfy
/// |fast − ref| ≤ 1e-5·|ref| + (k + 2)·u·S, where S = |alpha|·Σ_p|op(A)[i,p]·op(B)[p,j]| + |beta·C₀[i,j]|
/// (+ |bias[j]| when a bias is added; the +2 covers the alpha/beta/bias epilogue roundings). That bound is loose enough for any summation
/// order and tight enough to catch a dropped or repeated term (each term is ~S/k, far above (k+2)·u·S).
/// </summary>
internal static class GemmTestSupport
{
    private const double UnitRoundoff = 1.0 / (1 << 24);

    public static float[] Random(Random rng, long length, float scale = 1f)
    {
        var x = new float[length];
        for (long i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    /// <summary>Stored length of a row-major operand whose op() is rows×cols with leading dimension ld.</summary>
    public static int StoredLength(Transpose trans, int rows, int cols, int ld)
    {
        int storedRows = trans == Transpose.No ? rows : cols;
        int storedCols = trans == Transpose.No ? cols : rows;
        return storedRows == 0 || storedCols == 0 ? 0 : (storedRows - 1) * ld + storedCols;
    }

    public static int MinLd(Transpose trans, int rows, int cols) => Math.Max(1, trans == Transpose.No ? cols : rows);

    /// <summary>Asserts fast ≈ reference element-wise (see the class comment); cells outside (m, n) must be untouched.</summary>
    public static void AssertClose(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c0, int ldc,
        float[] expected, float[] actual, string what, float[]? bias = null)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                    double bv = transB == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                    magnitude += Math.Abs(av * bv);
                }
                double s = Math.Abs(alpha) * magnitude + (beta == 0f ? 0 : Math.Abs(beta * (double)c0[i * ldc + j]))
                    + (bias is null ? 0 : Math.Abs(bias[j]));
                double e = expected[i * ldc + j];
                double got = actual[i * ldc + j];
                double allowed = 1e-5 * Math.Abs(e) + (k + 2) * UnitRoundoff * s;
                if (!(Math.Abs(got - e) <= allowed))
                {
                    Assert.Fail($"{what}: C[{i},{j}] = {got:R}, reference {e:R}, |diff| {Math.Abs(got - e):E3} > allowed {allowed:E3} " +
                        $"(m={m} n={n} k={k} {transA}/{transB} alpha={alpha} beta={beta} lda={lda} ldb={ldb} ldc={ldc})");
                }
            }
        }
        // Padding between rows of C (ldc > n) and past the last row belongs to the caller.
        for (int idx = 0; idx < actual.Length; idx++)
        {
            int i = idx / ldc, j = idx % ldc;
            if (i < m && j < n) continue;
            if (BitConverter.SingleToInt32Bits(actual[idx]) != BitConverter.SingleToInt32Bits(c0[idx]))
            {
                Assert.Fail($"{what}: element {idx} outside C (row {i}, column {j}) was overwritten: {c0[idx]:R} -> {actual[idx]:R}");
            }
        }
    }

    /// <summary>Runs Gemm.Sgemm and GemmReference.Sgemm on the same random operands and compares.</summary>
    public static void CheckAgainstReference(
        Random rng, Transpose transA, Transpose transB, int m, int n, int k,
        float alpha = 1f, float beta = 0f, int padA = 0, int padB = 0, int padC = 0, bool nanC = false)
    {
        int lda = MinLd(transA, m, k) + padA;
        int ldb = MinLd(transB, k, n) + padB;
        int ldc = Math.Max(1, n) + padC;
        var a = Random(rng, StoredLength(transA, m, k, lda));
        var b = Random(rng, StoredLength(transB, k, n, ldb));
        var c0 = nanC ? Filled(m == 0 ? 0 : (m - 1) * ldc + n, float.NaN) : Random(rng, m == 0 ? 0 : (m - 1) * ldc + n);
        if (nanC && padC > 0)
        {
            for (int idx = 0; idx < c0.Length; idx++) if (idx % ldc >= n) c0[idx] = 7f; // padding keeps a sentinel
        }
        var expected = (float[])c0.Clone();
        var actual = (float[])c0.Clone();
        GemmReference.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc);
        AssertClose(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, expected, actual, "Sgemm");
    }

    public static float[] Filled(int length, float value)
    {
        var x = new float[length];
        Array.Fill(x, value);
        return x;
    }

    public static readonly (Transpose A, Transpose B)[] AllTransposes =
    [
        (Transpose.No, Transpose.No),
        (Transpose.No, Transpose.Yes),
        (Transpose.Yes, Transpose.No),
        (Transpose.Yes, Transpose.Yes),
    ];

    /// <summary>Runs <paramref name="body"/> with <see cref="KernelParallel.MaxThreads"/> set, restoring it after.</summary>
    public static void WithThreads(int threads, Action body)
    {
        int saved = KernelParallel.MaxThreads;
        KernelParallel.MaxThreads = threads;
        try
        {
            body();
        }
        finally
        {
            KernelParallel.MaxThreads = saved;
        }
    }

    /// <summary>Runs <paramref name="body"/> on this thread with the GEMM forced to <paramref name="isa"/>.</summary>
    public static void WithIsa(GemmIsa isa, Action body)
    {
        var saved = GemmDispatch.Forced;
        GemmDispatch.Forced = isa;
        try
        {
            body();
        }
        finally
        {
            GemmDispatch.Forced = saved;
        }
    }

    /// <summary>The kernel sets this CPU can run (the scalar one always).</summary>
    public static IEnumerable<GemmIsa> RunnableIsas() =>
        Enum.GetValues<GemmIsa>().Where(isa => isa <= GemmDispatch.Detected);
}

/// <summary>GEMM tests that change process-wide thread settings run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelThreadingCollection
{
    public const string Name = "Kernel threading";
}
