using Sharpformers.Kernels;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary>
/// The fast SGEMM against the naive reference on awkward shapes. Block geometry on AVX-512: MR = 8 rows,
/// panels of 48 columns in 16-lane vectors, k blocks of at most 512 (AVX2: MR = 6, 16-column panels
/// of 8 lanes; scalar: 4×4).
/// </summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class GemmTests
{
    public static TheoryData<int, int, int> EdgeShapes()
    {
        var data = new TheoryData<int, int, int>();
        int[] small = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 47, 48, 49, 65, 97];
        var rng = new Random(11);
        foreach (int m in small)
        {
            data.Add(m, small[rng.Next(small.Length)], small[rng.Next(small.Length)]);
        }
        data.Add(5, 96, 40);      // a whole number of 48-wide panels
        data.Add(9, 50, 30);      // 48 + one ragged vector
        data.Add(3, 3, 3);
        data.Add(13, 1, 200);     // n = 1
        data.Add(1, 300, 77);     // m = 1 (few-rows path)
        data.Add(4, 129, 513);    // m = 4 (few-rows, dot products when B is transposed)
        data.Add(6, 70, 600);     // m ≤ MR (few-rows kernel path)
        data.Add(40, 0, 10);
        data.Add(0, 0, 0);
        data.Add(10, 10, 0);      // k = 0: C = beta·C
        return data;
    }

    [Theory]
    [MemberData(nameof(EdgeShapes))]
    public void MatchesReferenceForAllTransposes(int m, int n, int k)
    {
        var rng = new Random(m * 7919 + n * 104729 + k);
        foreach (var (ta, tb) in AllTransposes)
        {
            CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1f, beta: 0f);
            CheckAgainstReference(rng, ta, tb, m, n, k, alpha: -0.75f, beta: 0.5f, padA: 3, padB: 5, padC: 2);
        }
    }

    [Fact]
    public void SweepsEveryRowCountUpTo300()
    {
        // Every m in 1..300 with pseudo-random n and k (fixed seed), cycling the transposes, so every
        // row-panel remainder meets every column-panel remainder somewhere; sized to run in seconds.
        var rng = new Random(300);
        for (int m = 1; m <= 300; m++)
        {
            int n = rng.Next(1, 161);
            int k = rng.Next(1, 161);
            var (ta, tb) = AllTransposes[m % 4];
            CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1f, beta: m % 3 == 0 ? 0.5f : 0f, padA: m % 2, padC: m % 5 == 0 ? 3 : 0);
        }
    }

    [Theory]
    [InlineData(64, 96, 511)]
    [InlineData(64, 96, 512)]
    [InlineData(64, 96, 513)]   // two k blocks of 257 and 256
    [InlineData(17, 49, 1025)]  // three k blocks
    [InlineData(129, 145, 100)]
    [InlineData(200, 200, 200)] // enough work to be split across threads
    [InlineData(300, 300, 300)]
    public void MatchesReferenceAtBlockBoundaries(int m, int n, int k)
    {
        var rng = new Random(m + n + k);
        foreach (var (ta, tb) in AllTransposes)
        {
            CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1f, beta: 1f, padA: 1, padB: 2, padC: 1);
        }
    }

    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(1f, 1f)]
    [InlineData(-0.5f, 0.25f)]
    [InlineData(2f, -1f)]
    [InlineData(0f, 0.5f)]
    [InlineData(0f, 0f)]
    public void HonoursAlphaAndBeta(float alpha, float beta)
    {
        var rng = new Random(5);
        foreach (var (ta, tb) in AllTransposes)
        {
            foreach (int m in new[] { 3, 37 })
            {
                CheckAgainstReference(rng, ta, tb, m, 53, 70, alpha, beta, padC: 4);
            }
        }
    }

    [Theory]
    [InlineData(1, 20, 30)]
    [InlineData(3, 17, 9)]
    [InlineData(8, 48, 16)]
    [InlineData(37, 101, 64)]
    [InlineData(150, 130, 520)]
    public void BetaZeroOverwritesNaN(int m, int n, int k)
    {
        var rng = new Random(9);
        foreach (var (ta, tb) in AllTransposes)
        {
            CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1.5f, beta: 0f, padC: 3, nanC: true);
        }
    }

    [Fact]
    public void AlphaZeroOrKZeroScalesCWithoutReadingAB()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        var a = Filled(6, float.NaN);
        var b = Filled(6, float.NaN);
        Gemm.Sgemm(Transpose.No, Transpose.No, 2, 3, 2, 0f, a, 2, b, 3, 2f, c, 3);
        Assert.Equal(new float[] { 2, 4, 6, 8, 10, 12 }, c);
        var nan = Filled(6, float.NaN);
        Gemm.Sgemm(Transpose.No, Transpose.No, 2, 3, 0, 1f, [], 1, [], 3, 0f, nan, 3);
        Assert.Equal(new float[6], nan);
    }

    [Fact]
    public void ResultsAreIdenticalOnOneAndTwoThreads()
    {
        var rng = new Random(77);
        foreach (var (m, n, k) in new[] { (300, 200, 700), (64, 1000, 300), (1, 500, 300), (6, 500, 300), (16, 768, 768) })
        {
            foreach (var (ta, tb) in AllTransposes)
            {
                int lda = MinLd(ta, m, k), ldb = MinLd(tb, k, n);
                var a = Random(rng, StoredLength(ta, m, k, lda));
                var b = Random(rng, StoredLength(tb, k, n, ldb));
                var c0 = Random(rng, m * n);
                var one = (float[])c0.Clone();
                var two = (float[])c0.Clone();
                WithThreads(1, () => Gemm.Sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1f, one, n));
                WithThreads(2, () => Gemm.Sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1f, two, n));
                Assert.True(one.AsSpan().SequenceEqual(two), $"{m}x{n}x{k} {ta}/{tb}: 1 and 2 threads differ");
                var expected = (float[])c0.Clone();
                GemmReference.Sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1f, expected, n);
                AssertClose(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1f, c0, n, expected, two, "two threads");
            }
        }
    }

    [Fact]
    public void EveryKernelSetMatchesReference()
    {
        // The AVX2 and scalar kernel sets run here too (forced on this thread), so the fallbacks are
        // tested on an AVX-512 machine.
        foreach (var isa in RunnableIsas())
        {
            WithIsa(isa, () =>
            {
                var rng = new Random((int)isa + 1);
                foreach (var (m, n, k) in new[] { (1, 9, 5), (5, 7, 3), (6, 16, 8), (7, 17, 9), (13, 33, 65), (37, 61, 530), (100, 90, 80) })
                {
                    foreach (var (ta, tb) in AllTransposes)
                    {
                        CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1.25f, beta: 0.5f, padA: 1, padB: 1, padC: 1);
                        CheckAgainstReference(rng, ta, tb, m, n, k, alpha: 1f, beta: 0f, nanC: true);
                    }
                }
            });
        }
    }

    [Fact]
    public void StridedBatchedMatchesReferencePerItem()
    {
        var rng = new Random(21);
        foreach (var (ta, tb) in AllTransposes)
        {
            foreach (var (m, n, k, batch) in new[] { (16, 16, 8, 12), (33, 20, 17, 5), (128, 64, 128, 3), (3, 50, 40, 4) })
            {
                int lda = MinLd(ta, m, k) + 1, ldb = MinLd(tb, k, n) + 2, ldc = n + 3;
                long strideA = StoredLength(ta, m, k, lda) + 5;
                long strideB = StoredLength(tb, k, n, ldb) + 7;
                long strideC = (long)m * ldc + 1;
                var a = Random(rng, strideA * batch);
                var b = Random(rng, strideB * batch);
                var c0 = Random(rng, strideC * batch);
                var actual = (float[])c0.Clone();
                Gemm.SgemmStridedBatched(ta, tb, m, n, k, 0.5f, a, lda, strideA, b, ldb, strideB, 2f, actual, ldc, strideC, batch);
                for (int i = 0; i < batch; i++)
                {
                    var ai = a.AsSpan((int)(i * strideA), (int)strideA).ToArray();
                    var bi = b.AsSpan((int)(i * strideB), (int)strideB).ToArray();
                    var ci0 = c0.AsSpan((int)(i * strideC), (int)strideC).ToArray();
                    var expected = (float[])ci0.Clone();
                    GemmReference.Sgemm(ta, tb, m, n, k, 0.5f, ai, lda, bi, ldb, 2f, expected, ldc);
                    var got = actual.AsSpan((int)(i * strideC), (int)strideC).ToArray();
                    AssertClose(ta, tb, m, n, k, 0.5f, ai, lda, bi, ldb, 2f, ci0, ldc, expected, got, $"batch item {i}");
                }
            }
        }
    }

    [Fact]
    public void StridedBatchedWritesInterleavedHeadColumns()
    {
        // Attention's P·V: head h of a (T, H·D) context is columns h·D..h·D+D, so ldc = H·D and
        // strideC = D; items interleave in memory without overlapping.
        var rng = new Random(17);
        const int seq = 37, heads = 12, headDim = 64, width = heads * headDim;
        var probs = Random(rng, heads * seq * seq);
        var value = Random(rng, seq * width);
        var context = Filled(seq * width, float.NaN);
        Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
            probs, seq, (long)seq * seq, value, width, headDim, 0f, context, width, headDim, heads);
        for (int h = 0; h < heads; h++)
        {
            var expected = new float[seq * headDim];
            GemmReference.Sgemm(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
                probs.AsSpan(h * seq * seq), seq, value.AsSpan(h * headDim), width, 0f, expected, headDim);
            for (int t = 0; t < seq; t++)
            {
                for (int d = 0; d < headDim; d++)
                {
                    Assert.True(Math.Abs(expected[t * headDim + d] - context[t * width + h * headDim + d]) <= 1e-4f,
                        $"head {h}, row {t}, column {d}");
                }
            }
        }
    }

    [Fact]
    public void StridedBatchedIsTheSameOnOneAndTwoThreads()
    {
        var rng = new Random(3);
        const int m = 40, n = 40, k = 64, batch = 24;
        var a = Random(rng, m * k * batch);
        var b = Random(rng, k * n * batch);
        var one = new float[m * n * batch];
        var two = Filled(m * n * batch, float.NaN);
        WithThreads(1, () => Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, m * k, b, k, k * n, 0f, one, n, m * n, batch));
        WithThreads(2, () => Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, m * k, b, k, k * n, 0f, two, n, m * n, batch));
        Assert.True(one.AsSpan().SequenceEqual(two));
    }

    [Fact]
    public void RejectsBadShapesWithNamedArguments()
    {
        var x = new float[100];
        var tooNarrow = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 4, 4, 5, 1f, x, 4, x, 4, 0f, x, 4));
        Assert.Equal("a", tooNarrow.ParamName);
        Assert.Contains("Leading dimension 4", tooNarrow.Message);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 30, 4, 5, 1f, x, 5, x, 4, 0f, new float[200], 4)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.Yes, 4, 30, 5, 1f, x, 5, x, 5, 0f, new float[200], 30)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 4, 4, 4, 1f, x, 4, x, 4, 0f, new float[10], 4)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, 4, 4, 4, 1f, x, 4, x, 4, 0f, x, 3)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, Transpose.No, -1, 4, 4, 1f, x, 4, x, 4, 0f, x, 4)).ParamName);
        Assert.Equal("strideC", Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, 2, 2, 2, 1f, x, 2, 4, x, 2, 4, 0f, x, 2, -1, 3)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, 2, 2, 2, 1f, x, 2, 60, x, 2, 4, 0f, x, 2, 4, 3)).ParamName);
    }
}
