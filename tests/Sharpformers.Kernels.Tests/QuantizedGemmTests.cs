using Sharpformers.Kernels;
using Sharpformers.TestSupport;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary>The int8 dynamic-quantization GEMM against its reference and against float32.</summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class QuantizedGemmTests
{
    private static void WithLevel(QuantizedKernels.Level level, Action body)
    {
        var saved = QuantizedKernels.Forced;
        QuantizedKernels.Forced = level;
        try
        {
            body();
        }
        finally
        {
            QuantizedKernels.Forced = saved;
        }
    }

    private static IEnumerable<QuantizedKernels.Level> Levels() =>
        Enum.GetValues<QuantizedKernels.Level>().Where(l => l <= QuantizedKernels.Detected);

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 33, 5)]       // k not a multiple of 4, n past one panel
    [InlineData(8, 32, 64)]
    [InlineData(9, 47, 13)]
    [InlineData(16, 96, 770)]
    [InlineData(65, 70, 100)]    // two row groups
    [InlineData(130, 64, 48)]    // split across threads
    public void MatchesTheReferenceOnEveryKernelAndThreadCount(int m, int n, int k)
    {
        var rng = new Random(m * 101 + n * 7 + k);
        var x = Random(rng, m * (k + 2), 3f);
        var w = Random(rng, n * k, 0.5f);
        var bias = Random(rng, n);
        var weights = QuantizedMatrix.QuantizeWeights(w, n, k);
        int ldc = n + 1;
        foreach (float beta in new[] { 0f, 1f })
        {
            var c0 = Random(rng, (m - 1) * ldc + n);
            var expected = (float[])c0.Clone();
            QuantizedGemmReference.Gemm(m, n, k, x, k + 2, weights, bias, beta, expected, ldc);
            float[]? first = null;
            foreach (var level in Levels())
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var actual = (float[])c0.Clone();
                    WithLevel(level, () => WithThreads(threads, () => QuantizedGemm.Gemm(m, n, k, x, k + 2, weights, bias, beta, actual, ldc)));
                    // The integer sums are exact; only the float epilogue (vs double in the reference) rounds.
                    Approx.Equal(expected, actual, absTol: 1e-4, relTol: 1e-5, what: $"{level}, {threads} thread(s), beta {beta}");
                    if (first is null) first = actual;
                    else Assert.True(first.AsSpan().SequenceEqual(actual), $"{level}, {threads} thread(s): results differ between kernels or thread counts");
                }
            }
        }
    }

    [Theory]
    [InlineData(16, 768, 768)]
    [InlineData(33, 300, 3072)]
    public void StaysWithinTheQuantizationErrorOfTheFloatProduct(int m, int n, int k)
    {
        // Stated tolerance, from the two roundings: 7-bit activation codes over a row's range (uniform x:
        // RMS error 2·√3 / (127·√12) ≈ 0.79% of the RMS) and int8 weights per channel (≈ 0.39%), combined
        // ≈ 0.88%; the product's relative RMS error stays under 1.2% and cannot be near zero.
        var rng = new Random(n + k);
        var x = Random(rng, m * k);
        var w = Random(rng, n * k, 0.05f);
        var exact = new float[m * n];
        GemmReference.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, x, k, w, k, 0f, exact, n);
        var quantized = new float[m * n];
        QuantizedGemm.Gemm(m, n, k, x, k, QuantizedMatrix.QuantizeWeights(w, n, k), [], 0f, quantized, n);
        double error = 0, signal = 0;
        for (int i = 0; i < exact.Length; i++)
        {
            error += Math.Pow(quantized[i] - exact[i], 2);
            signal += Math.Pow(exact[i], 2);
        }
        double relative = Math.Sqrt(error / signal);
        Assert.InRange(relative, 0.004, 0.012);
    }

    [Fact]
    public void PositiveActivationsUseTheWholeCodeRange()
    {
        // After GELU a row is almost all positive: the zero point sits at the bottom and the 128 codes span
        // [min(x, 0), max(x)], so the error is half a step of that range, not of a symmetric ±max one.
        const int k = 256;
        var rng = new Random(5);
        var x = Random(rng, k).Select(v => Math.Abs(v) * 4f).ToArray();
        var codes = new byte[k];
        var scales = new float[1];
        var zeros = new int[1];
        QuantizedGemm.QuantizeRows(x, 1, k, k, codes, k, scales, zeros);
        Assert.Equal(0, zeros[0]);
        Assert.Equal(x.Max() / 127, scales[0], 1e-6f);
        Assert.Equal(127, codes.Max());
    }

    [Fact]
    public void TheDeepestExactProductIsExact()
    {
        // At k = MaxDepth with every code at its extreme, the int32 sums reach ±127·127·k (just under 2³¹)
        // and still match the long-integer reference; one deeper is refused.
        int k = QuantizedGemm.MaxDepth;
        Assert.True((long)k * QuantizedGemm.ActivationLevels * QuantizedGemm.WeightLevels <= int.MaxValue);
        var w = Enumerable.Repeat(1f, k).ToArray();
        var weights = QuantizedMatrix.QuantizeWeights(w, 1, k);
        Assert.Equal(127 * k, weights.ColumnSums[0]);
        foreach (float value in new[] { 1f, -1f })
        {
            var x = Enumerable.Repeat(value, k).ToArray();
            x[0] = 0f; // keeps both ends of the range in play
            var expected = new float[1];
            QuantizedGemmReference.Gemm(1, 1, k, x, k, weights, [], 0f, expected, 1);
            foreach (var level in Levels())
            {
                var actual = new float[1];
                WithLevel(level, () => QuantizedGemm.Gemm(1, 1, k, x, k, weights, [], 0f, actual, 1));
                Assert.Equal(expected[0], actual[0], 1e-6f * k);
                Assert.Equal(value * (k - 1), actual[0], 1e-6f * k);
            }
        }
        var error = Assert.Throws<ArgumentException>(() => QuantizedMatrix.QuantizeWeights(new float[k + 1], 1, k + 1));
        Assert.Equal("k", error.ParamName);
    }

    [Fact]
    public void AppliesTheActivationAfterTheBias()
    {
        var rng = new Random(9);
        const int m = 7, n = 40, k = 24;
        var x = Random(rng, m * k);
        var w = Random(rng, n * k);
        var bias = Random(rng, n);
        var weights = QuantizedMatrix.QuantizeWeights(w, n, k);
        var plain = new float[m * n];
        QuantizedGemm.Gemm(m, n, k, x, k, weights, bias, 0f, plain, n);
        Activations.Gelu(plain, plain);
        var fused = new float[m * n];
        QuantizedGemm.Gemm(m, n, k, x, k, weights, bias, 0f, fused, n, EpilogueActivation.Gelu);
        Assert.True(plain.AsSpan().SequenceEqual(fused));
    }

    [Fact]
    public void ZeroInputsGiveTheBias()
    {
        var weights = QuantizedMatrix.QuantizeWeights(Random(new Random(1), 5 * 8), 5, 8);
        var y = new float[2 * 5];
        QuantizedGemm.Gemm(2, 5, 8, new float[16], 8, weights, new float[] { 1, 2, 3, 4, 5 }, 0f, y, 5);
        Assert.Equal([1f, 2, 3, 4, 5, 1, 2, 3, 4, 5], y);
    }

    [Fact]
    public void QuantizedRowsMatchTheScalarRule()
    {
        var rng = new Random(4);
        const int rows = 5, cols = 77, ldq = 80;
        var x = Random(rng, rows * cols, 4f);
        x[3] = 0f;
        for (int j = 0; j < cols; j++) x[cols + j] = Math.Abs(x[cols + j]) + 0.5f; // row 1: all positive
        for (int j = 0; j < cols; j++) x[2 * cols + j] = 0f;                        // row 2: all zero
        var codes = new byte[rows * ldq];
        var scales = new float[rows];
        var zeros = new int[rows];
        QuantizedGemm.QuantizeRows(x, rows, cols, cols, codes, ldq, scales, zeros);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            float min = 0, max = 0;
            foreach (float v in row)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            var (scale, inverse, zero) = QuantizedGemm.RowParameters(min, max);
            Assert.Equal(scale, scales[r]);
            Assert.Equal(zero, zeros[r]);
            for (int j = 0; j < cols; j++)
            {
                byte code = codes[r * ldq + j];
                Assert.Equal(QuantizedGemm.QuantizeValue(row[j], inverse, zero), code);
                Assert.InRange(code, 0, QuantizedGemm.ActivationLevels);
                // Half a step inside the range; the clamped ends can be off by the zero point's rounding too.
                float bound = code is 0 or QuantizedGemm.ActivationLevels ? scale : scale / 2;
                Assert.InRange(Math.Abs((code - zero) * scale - row[j]), 0, bound + 1e-6);
            }
            for (int j = cols; j < ldq; j++) Assert.Equal(0, codes[r * ldq + j]);
        }
        Assert.Equal(zeros[0], codes[3]); // 0 is exact
        Assert.Equal(0, zeros[1]);
        Assert.Equal(QuantizedGemm.ActivationLevels, codes.AsSpan(ldq, cols).ToArray().Max());
        Assert.Equal((0f, 0), (scales[2], zeros[2]));
    }

    [Fact]
    public void NonFiniteInputsGiveNaNRows()
    {
        var weights = QuantizedMatrix.QuantizeWeights(Random(new Random(2), 3 * 20), 3, 20);
        var x = Random(new Random(3), 3 * 20);
        x[5] = float.PositiveInfinity;
        x[20 + 7] = float.NaN;
        foreach (var level in Levels())
        {
            var y = new float[3 * 3];
            WithLevel(level, () => QuantizedGemm.Gemm(3, 3, 20, x, 20, weights, [], 0f, y, 3));
            Assert.All(y.AsSpan(0, 6).ToArray(), v => Assert.True(float.IsNaN(v)));
            Assert.All(y.AsSpan(6, 3).ToArray(), v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void WeightCodesAreSymmetricPerOutputChannel()
    {
        var w = new float[] { 0.5f, -1f, 0.25f, 0f, /* row 2 */ 2f, 2f, -2f, 1f, /* row 3 */ 0f, 0f, 0f, 0f };
        var q = QuantizedMatrix.QuantizeWeights(w, 3, 4);
        Assert.Equal(1f / 127, q.Scales[0], 1e-9f);
        Assert.Equal(2f / 127, q.Scales[1], 1e-9f);
        Assert.Equal(0f, q.Scales[2]);
        Assert.Equal(new sbyte[] { 64, -127, 32, 0 }, Enumerable.Range(0, 4).Select(d => q.Code(0, d)).ToArray());
        Assert.Equal(new sbyte[] { 127, 127, -127, 64 }, Enumerable.Range(0, 4).Select(d => q.Code(1, d)).ToArray());
        Assert.All(Enumerable.Range(0, 4), d => Assert.Equal(0, q.Code(2, d)));
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        var weights = QuantizedMatrix.QuantizeWeights(new float[12], 3, 4);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => QuantizedGemm.Gemm(2, 3, 5, new float[10], 5, weights, [], 0f, new float[6], 3)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => QuantizedGemm.Gemm(2, 3, 4, new float[8], 4, weights, new float[2], 0f, new float[6], 3)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => QuantizedGemm.Gemm(2, 3, 4, new float[7], 4, weights, [], 0f, new float[6], 3)).ParamName);
    }
}
