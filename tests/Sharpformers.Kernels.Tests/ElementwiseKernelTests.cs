namespace Sharpformers.Kernels.Tests;

public sealed class ElementwiseKernelTests
{
    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void AddEqualsReference(int n, int width)
    {
        var a = KernelTestData.Random(n, seed: n);
        var b = KernelTestData.Random(n, seed: n + 100);
        var expected = new float[n];
        ElementwiseReference.Add(a, b, expected);
        var actual = new float[n];
        KernelTestData.WithWidth(width, () => Elementwise.Add(a, b, actual));
        Assert.Equal(expected, actual);
        KernelTestData.WithWidth(width, () => Elementwise.Add(a, b, a)); // residual in place
        Assert.Equal(expected, a);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void BiasAddAndBroadcastEqualReference(int size, int width)
    {
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 5;
        var x = KernelTestData.Random(rows * cols, seed: cols);
        var bias = KernelTestData.Random(cols, seed: cols + 1);
        var expected = new float[x.Length];
        ElementwiseReference.AddRowToEachRow(x, bias, expected);
        var actual = new float[x.Length];
        KernelTestData.WithWidth(width, () => Elementwise.AddRowToEachRow(x, bias, actual));
        Assert.Equal(expected, actual);

        ElementwiseReference.BroadcastRow(bias, expected);
        KernelTestData.WithWidth(width, () => Elementwise.BroadcastRow(bias, actual));
        Assert.Equal(expected, actual);
        Assert.Equal(rows * cols, actual.Length);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void ScaleEqualsReference(int n, int width)
    {
        var x = KernelTestData.Random(n, seed: n + 3);
        var expected = new float[n];
        ElementwiseReference.Scale(x, 0.125f, expected);
        var actual = new float[n];
        KernelTestData.WithWidth(width, () => Elementwise.Scale(x, 0.125f, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-7, abs: 0, what: "scale");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(16, 7)]
    [InlineData(17, 13)]
    [InlineData(768, 9)]
    public void EmbeddingGathersEqualReference(int cols, int count)
    {
        int rows = 11;
        var table = KernelTestData.Random(rows * cols, seed: cols);
        var ids = Enumerable.Range(0, count).Select(i => (i * 7 + 3) % rows).ToArray();
        var expected = new float[count * cols];
        var actual = new float[count * cols];
        EmbeddingLookupReference.Gather(table, cols, ids, expected);
        EmbeddingLookup.Gather(table, cols, ids, actual);
        Assert.Equal(expected, actual);
        EmbeddingLookupReference.GatherAdd(table, cols, ids, expected);
        EmbeddingLookup.GatherAdd(table, cols, ids, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EmbeddingIndexOutsideTheTableIsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => EmbeddingLookup.Gather(new float[12], 4, [0, 3], new float[8]));
        Assert.Contains("Index 3 at position 1 is outside the embedding table of 3 rows", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => EmbeddingLookup.Gather(new float[12], 4, [-1], new float[4]));
        Assert.Contains("Index -1", ex.Message);
    }

    [Fact]
    public void ArgMaxTakesTheFirstOfTiesAndNaN()
    {
        Assert.Equal(-1, Reductions.ArgMax([]));
        Assert.Equal(1, Reductions.ArgMax([1f, 3f, 3f, 2f]));
        Assert.Equal(2, Reductions.ArgMax([1f, 3f, float.NaN, 5f]));
        Assert.Equal(0, Reductions.ArgMax([-1f]));
    }
}
