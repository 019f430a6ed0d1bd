using Sharpformers.Kernels;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary>Pre-packed B (<see cref="Gemm.PackB"/>): the weight path y = x·Wᵀ, against the reference.</summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class GemmPackedTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(16, 768, 64)]    // DistilBERT latency shape, narrowed in k to keep the reference quick
    [InlineData(5, 49, 513)]
    [InlineData(37, 130, 100)]
    [InlineData(130, 97, 600)]
    [InlineData(9, 16, 1)]
    [InlineData(0, 10, 10)]
    [InlineData(10, 0, 10)]
    [InlineData(4, 10, 0)]
    public void PackedMatchesReference(int m, int n, int k)
    {
        var rng = new Random(m * 31 + n * 17 + k);
        foreach (var (ta, tb) in AllTransposes)
        {
            int lda = MinLd(ta, m, k) + 2, ldb = MinLd(tb, k, n) + 3, ldc = Math.Max(1, n) + 1;
            var a = Random(rng, StoredLength(ta, m, k, lda));
            var b = Random(rng, StoredLength(tb, k, n, ldb));
            var packed = Gemm.PackB(tb, k, n, b, ldb);
            Assert.Equal(k, packed.Rows);
            Assert.Equal(n, packed.Columns);
            foreach (var (alpha, beta, nan) in new[] { (1f, 0f, true), (0.5f, 1.5f, false) })
            {
                var c0 = nan ? Filled(m == 0 ? 0 : (m - 1) * ldc + n, float.NaN) : Random(rng, m == 0 ? 0 : (m - 1) * ldc + n);
                for (int idx = 0; idx < c0.Length; idx++) if (idx % ldc >= n) c0[idx] = 3f;
                var expected = (float[])c0.Clone();
                var actual = (float[])c0.Clone();
                GemmReference.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
                Gemm.Sgemm(ta, m, n, k, alpha, a, lda, packed, beta, actual, ldc);
                AssertClose(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, expected, actual, "packed");
            }
        }
    }

    [Fact]
    public void OnePackingServesManyRowCountsAndEqualsTheUnpackedPath()
    {
        // A linear layer: W (out=200, in=150), y = x·Wᵀ for batches of different sizes.
        var rng = new Random(8);
        const int inFeatures = 150, outFeatures = 200;
        var w = Random(rng, outFeatures * inFeatures);
        var packed = Gemm.PackB(Transpose.Yes, inFeatures, outFeatures, w, inFeatures);
        foreach (int tokens in new[] { 1, 2, 7, 8, 16, 33, 128, 257 })
        {
            var x = Random(rng, tokens * inFeatures);
            var viaPacked = new float[tokens * outFeatures];
            var viaSpans = new float[tokens * outFeatures];
            Gemm.Sgemm(Transpose.No, tokens, outFeatures, inFeatures, 1f, x, inFeatures, packed, 0f, viaPacked, outFeatures);
            Gemm.Sgemm(Transpose.No, Transpose.Yes, tokens, outFeatures, inFeatures, 1f, x, inFeatures, w, inFeatures, 0f, viaSpans, outFeatures);
            var expected = new float[tokens * outFeatures];
            GemmReference.Sgemm(Transpose.No, Transpose.Yes, tokens, outFeatures, inFeatures, 1f, x, inFeatures, w, inFeatures, 0f, expected, outFeatures);
            AssertClose(Transpose.No, Transpose.Yes, tokens, outFeatures, inFeatures, 1f, x, inFeatures, w, inFeatures, 0f,
                new float[tokens * outFeatures], outFeatures, expected, viaPacked, $"packed, {tokens} tokens");
            if (tokens > 4)
            {
                // Same kernels, same summation order: the packed and unpacked paths agree bit for bit
                // (below 5 rows the unpacked path uses dot products instead).
                Assert.True(viaPacked.AsSpan().SequenceEqual(viaSpans), $"{tokens} tokens: packed and unpacked differ");
            }
        }
    }

    [Theory]
    [InlineData(1, 50, 40)]     // few rows: dot products (unpacked, transposed B) or in-place B rows
    [InlineData(3, 97, 600)]
    [InlineData(7, 33, 20)]
    [InlineData(16, 100, 700)]  // two k blocks: the bias is added once
    [InlineData(45, 61, 64)]
    [InlineData(300, 200, 50)]  // split across threads
    [InlineData(5, 20, 0)]      // k = 0: C = beta·C + bias
    public void BiasIsAddedOnceToEveryRow(int m, int n, int k)
    {
        var rng = new Random(m + 100 * n + k);
        var bias = Random(rng, n, 3f);
        foreach (var (ta, tb) in AllTransposes)
        {
            int lda = MinLd(ta, m, k) + 1, ldb = MinLd(tb, k, n), ldc = n + 2;
            var a = Random(rng, StoredLength(ta, m, k, lda));
            var b = Random(rng, StoredLength(tb, k, n, ldb));
            var packed = Gemm.PackB(tb, k, n, b, ldb);
            foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 2f), (0f, 0.5f) })
            {
                var c0 = Random(rng, (m - 1) * ldc + n);
                var expected = (float[])c0.Clone();
                GemmReference.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) expected[i * ldc + j] += bias[j];
                var viaSpans = (float[])c0.Clone();
                Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, bias, beta, viaSpans, ldc);
                AssertClose(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, expected, viaSpans, "bias, unpacked", bias);
                var viaPacked = (float[])c0.Clone();
                Gemm.Sgemm(ta, m, n, k, alpha, a, lda, packed, bias, beta, viaPacked, ldc);
                AssertClose(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, expected, viaPacked, "bias, packed", bias);
            }
        }
    }

    [Fact]
    public void BiasWorksOnEveryKernelSet()
    {
        foreach (var isa in RunnableIsas())
        {
            WithIsa(isa, () =>
            {
                var rng = new Random(60 + (int)isa);
                foreach (var (m, n, k) in new[] { (2, 19, 30), (6, 21, 45), (23, 37, 530) })
                {
                    var bias = Random(rng, n);
                    var a = Random(rng, m * k);
                    var w = Random(rng, n * k);
                    var expected = new float[m * n];
                    GemmReference.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, w, k, 0f, expected, n);
                    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) expected[i * n + j] += bias[j];
                    var got = Filled(m * n, float.NaN);
                    Gemm.Sgemm(Transpose.No, m, n, k, 1f, a, k, Gemm.PackB(Transpose.Yes, k, n, w, k), bias, 0f, got, n);
                    AssertClose(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, w, k, 0f, new float[m * n], n, expected, got, $"{isa} packed", bias);
                    got = Filled(m * n, float.NaN);
                    Gemm.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, w, k, bias, 0f, got, n);
                    AssertClose(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, w, k, 0f, new float[m * n], n, expected, got, $"{isa} unpacked", bias);
                }
            });
        }
    }

    [Fact]
    public void RejectsABiasOfTheWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(Transpose.No, Transpose.No, 2, 3, 2, 1f, new float[4], 2, new float[6], 3, new float[2], 0f, new float[6], 3));
        Assert.Equal("bias", e.ParamName);
    }

    [Fact]
    public void PackedResultsAreIdenticalOnOneAndTwoThreads()
    {
        var rng = new Random(12);
        const int m = 16, n = 768, k = 256;
        var w = Random(rng, n * k);
        var x = Random(rng, m * k);
        var packed = Gemm.PackB(Transpose.Yes, k, n, w, k);
        var one = new float[m * n];
        var two = new float[m * n];
        WithThreads(1, () => Gemm.Sgemm(Transpose.No, m, n, k, 1f, x, k, packed, 0f, one, n));
        WithThreads(2, () => Gemm.Sgemm(Transpose.No, m, n, k, 1f, x, k, packed, 0f, two, n));
        Assert.True(one.AsSpan().SequenceEqual(two));
    }

    [Fact]
    public void PackingForEveryKernelSetWorks()
    {
        foreach (var isa in RunnableIsas())
        {
            WithIsa(isa, () =>
            {
                var rng = new Random(40 + (int)isa);
                const int m = 21, n = 37, k = 45;
                var b = Random(rng, k * n);
                var a = Random(rng, m * k);
                var packed = Gemm.PackB(Transpose.No, k, n, b, n);
                Assert.Equal(isa, packed.Isa);
                var expected = new float[m * n];
                var actual = new float[m * n];
                GemmReference.Sgemm(Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, expected, n);
                Gemm.Sgemm(Transpose.No, m, n, k, 1f, a, k, packed, 0f, actual, n);
                AssertClose(Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, new float[m * n], n, expected, actual, isa.ToString());
            });
        }
    }

    [Fact]
    public void RejectsAMismatchedPackedShape()
    {
        var packed = Gemm.PackB(Transpose.No, 4, 6, new float[24], 6);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(Transpose.No, 2, 6, 5, 1f, new float[10], 5, packed, 0f, new float[12], 6));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("(4, 6)", e.Message);
        Assert.Throws<ArgumentException>(() => Gemm.PackB(Transpose.Yes, 4, 6, new float[20], 4));
    }
}
