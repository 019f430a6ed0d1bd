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
        // Stated tolerance: on inputs spread over their range the quantized product's RMS error is under
        // 0.5% of the float product's RMS (int8 weights per channel; the 13+ bit activation codes add
        // almost nothing).
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
        Assert.True(relative < 0.005, $"relative RMS error {relative:P3}");
        Assert.True(relative > 1e-5, $"relative RMS error {relative:E2} is implausibly small for int8 weights");
    }

    [Fact]
    public void ActivationCodesUseTheBitsTheAccumulatorAllows()
    {
        Assert.Equal(short.MaxValue, QuantizedGemm.ActivationLimit(2));
        Assert.Equal(22017, QuantizedGemm.ActivationLimit(768));
        Assert.Equal(5504, QuantizedGemm.ActivationLimit(3072));
        Assert.Equal(5504, QuantizedGemm.ActivationLimit(3071)); // padded to even
        foreach (int k in new[] { 1, 7, 768, 3072, 100_000 })
        {
            long worst = (long)((k + 1) & ~1) * QuantizedGemm.ActivationLimit(k) * QuantizedGemm.WeightLevels;
            Assert.True(worst <= int.MaxValue, $"k = {k}: sums can reach {worst}");
        }
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
        const int rows = 5, cols = 77, ldq = 80, limit = 1000;
        var x = Random(rng, rows * cols, 4f);
        x[3] = 0f;
        var codes = new short[rows * ldq];
        var scales = new float[rows];
        QuantizedGemm.QuantizeRows(x, rows, cols, cols, limit, codes, ldq, scales);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            float amax = 0;
            foreach (float v in row) amax = Math.Max(amax, Math.Abs(v));
            var (scale, inverse) = QuantizedGemm.RowParameters(amax, limit);
            Assert.Equal(scale, scales[r]);
            for (int j = 0; j < cols; j++)
            {
                short code = codes[r * ldq + j];
                Assert.Equal(QuantizedGemm.QuantizeValue(row[j], inverse, limit), code);
                Assert.InRange(Math.Abs(code), 0, limit);
                Assert.InRange(Math.Abs(code * scale - row[j]), 0, scale / 2 + 1e-6);
            }
            Assert.Contains(codes.AsSpan(r * ldq, cols).ToArray(), code => Math.Abs((int)code) == limit); // the largest value uses the full range
            for (int j = cols; j < ldq; j++) Assert.Equal(0, codes[r * ldq + j]);
        }
        Assert.Equal(0, codes[3]);
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
