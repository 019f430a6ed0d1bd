namespace Sharpformers.Kernels.Tests;

public sealed class NormalizationKernelTests
{
    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void LayerNormEqualsReference(int size, int width)
    {
        // Size 0 is an empty batch (no rows) of one feature.
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 3;
        var x = KernelTestData.Random(rows * cols, seed: cols, low: -3f, high: 5f);
        var w = KernelTestData.Random(cols, seed: cols + 1, low: 0.5f, high: 1.5f);
        var b = KernelTestData.Random(cols, seed: cols + 2, low: -0.5f, high: 0.5f);
        var expected = new float[rows * cols];
        var expectedMean = new float[rows];
        var expectedRstd = new float[rows];
        NormalizationReference.LayerNorm(x, w, b, 1e-12f, expected, expectedMean, expectedRstd);
        var actual = new float[rows * cols];
        var mean = new float[rows];
        var rstd = new float[rows];
        KernelTestData.WithWidth(width, () => Normalization.LayerNorm(x, w, b, 1e-12f, actual, mean, rstd));
        // Outputs are O(1): an absolute floor of 1e-6 covers values that pass near zero.
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-6, what: "y");
        KernelTestData.AssertClose(expectedMean, mean, rel: 1e-5, abs: 1e-6, what: "mean");
        KernelTestData.AssertClose(expectedRstd, rstd, rel: 1e-5, abs: 0, what: "rstd");
        Assert.Equal(rows * cols, actual.Length);
    }

    [Fact]
    public void ConstantRowsNormaliseToTheBiasAndEpsMatters()
    {
        float[] x = [2f, 2f, 2f, 2f];
        float[] w = [1f, 1f, 1f, 1f];
        float[] b = [0.5f, -0.5f, 0f, 1f];
        var y = new float[4];
        var rstd = new float[1];
        Normalization.LayerNorm(x, w, b, 1e-5f, y, Span<float>.Empty, rstd);
        Assert.Equal(b, y);
        Assert.Equal(1f / MathF.Sqrt(1e-5f), rstd[0], 3);
    }

    [Fact]
    public void InPlaceAndWithoutStatistics()
    {
        var x = KernelTestData.Random(2 * 33, seed: 3);
        var w = KernelTestData.Random(33, seed: 4);
        var b = KernelTestData.Random(33, seed: 5);
        var expected = new float[x.Length];
        Normalization.LayerNorm(x, w, b, 1e-12f, expected, Span<float>.Empty, Span<float>.Empty);
        Normalization.LayerNorm(x, w, b, 1e-12f, x, Span<float>.Empty, Span<float>.Empty);
        Assert.Equal(expected, x);
    }

    [Fact]
    public void ShapeErrorsNameTheArgument()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Normalization.LayerNorm(new float[10], new float[4], new float[4], 1e-5f, new float[10], default, default));
        Assert.Contains("not a whole number of rows of 4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Normalization.LayerNorm(new float[8], new float[4], new float[3], 1e-5f, new float[8], default, default));
        Assert.Contains("bias has length 3, expected 4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Normalization.LayerNorm(new float[8], new float[4], new float[4], 1e-5f, new float[8], new float[3], default));
        Assert.Contains("mean has length 3, expected 2", ex.Message);
    }
}
