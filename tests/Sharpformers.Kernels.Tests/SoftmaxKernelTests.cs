namespace Sharpformers.Kernels.Tests;

public sealed class SoftmaxKernelTests
{
    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void RowsEqualReference(int size, int width)
    {
        // Size 0 is an empty batch (no rows) of 1-wide rows.
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 4;
        var x = KernelTestData.Random(rows * cols, seed: cols * 7, low: -20f, high: 20f);
        var expected = new float[x.Length];
        SoftmaxReference.Rows(x, cols, ReadOnlySpan<float>.Empty, expected);
        var actual = new float[x.Length];
        KernelTestData.WithWidth(width, () => Softmax.Rows(x, cols, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-30, what: "softmax");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void AttentionMaskEqualsReference(int size, int width)
    {
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 3;
        var x = KernelTestData.Random(rows * cols, seed: cols * 11, low: -8f, high: 8f);
        var mask = new float[cols];
        for (int c = 0; c < cols; c++) mask[c] = c % 3 == 2 || c >= cols - cols / 4 ? float.MinValue : 0f;
        var expected = new float[x.Length];
        SoftmaxReference.Rows(x, cols, mask, expected);
        var actual = new float[x.Length];
        KernelTestData.WithWidth(width, () => Softmax.Rows(x, cols, mask, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-30, what: "masked softmax");
        Assert.Equal(rows * cols, actual.Length);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                if (mask[c] != 0f && mask.Any(m => m == 0f)) Assert.Equal(0f, actual[r * cols + c]);
    }

    [Fact]
    public void FullyMaskedRowIsUniformAsInTorch()
    {
        float[] x = [1f, 5f, -3f, 2f, 0f];
        var mask = Enumerable.Repeat(float.MinValue, 5).ToArray();
        var y = new float[5];
        Softmax.Rows(x, 5, mask, y);
        Assert.All(y, v => Assert.Equal(0.2f, v, 6));
    }

    [Fact]
    public void LargeLogitsDoNotOverflow()
    {
        float[] x = [1000f, 999f, -1000f];
        var y = new float[3];
        Softmax.Rows(x, 3, y);
        Assert.Equal(0.7310586f, y[0], 6);
        Assert.Equal(0.26894143f, y[1], 6);
        Assert.Equal(0f, y[2]);
    }

    [Fact]
    public void MaskOfTheWrongLengthIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Rows(new float[6], 3, new float[2], new float[6]));
        Assert.Contains("additiveMask has length 2, expected 3", ex.Message);
    }
}
