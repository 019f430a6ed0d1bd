namespace Sharpformers.Kernels.Tests;

/// <summary>Awkward sizes and every vector width, shared by the kernel-versus-reference tests.</summary>
public static class KernelTestData
{
    /// <summary>0, 1, around both vector widths (8 and 16 floats), around their multiples, and odd larger sizes.</summary>
    public static readonly int[] Sizes = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 257, 1000, 3073];

    /// <summary>Vector512 (where the hardware has it), Vector256, scalar.</summary>
    public static readonly int[] Widths = [512, 256, 0];

    public static IEnumerable<object[]> SizesByWidth() =>
        from w in Widths from n in Sizes select new object[] { n, w };

    public static IEnumerable<object[]> WidthsOnly() => Widths.Select(w => new object[] { w });

    public static float[] Random(int n, int seed, float low = -6f, float high = 6f)
    {
        var rng = new Random(seed);
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (float)(low + (high - low) * rng.NextDouble());
        return data;
    }

    /// <summary>Runs <paramref name="body"/> with the kernels capped at <paramref name="bits"/> on this thread.</summary>
    public static void WithWidth(int bits, Action body)
    {
        SimdLevel.MaxBitsForCurrentThread = bits;
        try
        {
            body();
        }
        finally
        {
            SimdLevel.MaxBitsForCurrentThread = null;
        }
    }

    /// <summary>|fast - reference| &lt;= rel·|reference| + abs for every element, with the first failure reported.</summary>
    public static void AssertClose(ReadOnlySpan<float> reference, ReadOnlySpan<float> fast, double rel, double abs, string what)
    {
        Assert.Equal(reference.Length, fast.Length);
        for (int i = 0; i < reference.Length; i++)
        {
            double diff = Math.Abs((double)reference[i] - fast[i]);
            if (!(diff <= rel * Math.Abs(reference[i]) + abs) && !(float.IsNaN(reference[i]) && float.IsNaN(fast[i])))
            {
                Assert.Fail($"{what}[{i}] of {reference.Length}: reference {reference[i]:R}, fast {fast[i]:R}, |diff| {diff:E3}");
            }
        }
    }
}
