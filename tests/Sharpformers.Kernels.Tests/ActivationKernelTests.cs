namespace Sharpformers.Kernels.Tests;

public sealed class ActivationKernelTests
{
    public delegate void Kernel(ReadOnlySpan<float> x, Span<float> y);

    public static readonly Dictionary<string, (Kernel Fast, Kernel Reference)> Pairs = new()
    {
        ["gelu"] = (Activations.Gelu, ActivationsReference.Gelu),
        ["gelu_tanh"] = (Activations.GeluTanh, ActivationsReference.GeluTanh),
        ["relu"] = (Activations.Relu, ActivationsReference.Relu),
        ["tanh"] = (Activations.Tanh, ActivationsReference.Tanh),
        ["sigmoid"] = (Activations.Sigmoid, ActivationsReference.Sigmoid),
        ["silu"] = (Activations.Silu, ActivationsReference.Silu),
        ["quick_gelu"] = (Activations.QuickGelu, ActivationsReference.QuickGelu),
        ["exp"] = (Activations.Exp, ActivationsReference.Exp),
        ["erf"] = (Activations.Erf, ActivationsReference.Erf),
    };

    public static IEnumerable<object[]> Cases() =>
        from name in Pairs.Keys from w in KernelTestData.Widths from n in KernelTestData.Sizes select new object[] { name, n, w };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FastEqualsReferenceOnAwkwardSizes(string name, int n, int width)
    {
        var (fast, reference) = Pairs[name];
        // Inputs span the regions each function switches between (small |x| polynomial, tails, saturation).
        var x = KernelTestData.Random(n, seed: n * 31 + width + name.Length, low: -12f, high: 12f);
        var expected = new float[n];
        var actual = new float[n];
        reference(x, expected);
        KernelTestData.WithWidth(width, () => fast(x, actual));
        // Relative 1e-5; the 1e-30 absolute slack only covers results that underflow to (near) zero.
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-30, what: $"{name} width {width}");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.WidthsOnly), MemberType = typeof(KernelTestData))]
    public void InPlaceGivesTheSameResult(int width)
    {
        var x = KernelTestData.Random(37, seed: 5);
        var expected = new float[37];
        KernelTestData.WithWidth(width, () =>
        {
            Activations.Gelu(x, expected);
            var inPlace = (float[])x.Clone();
            Activations.Gelu(inPlace, inPlace);
            Assert.Equal(expected, inPlace);
        });
    }

    [Fact]
    public void EveryWidthGivesBitIdenticalResults()
    {
        // The tail of a span goes through the same arithmetic as its body, and the scalar path through the
        // same polynomials, so the element at an index does not depend on the path that computed it.
        var x = KernelTestData.Random(1001, seed: 9, low: -9f, high: 9f);
        foreach (var (name, (fast, _)) in Pairs)
        {
            float[] Run(int w)
            {
                var y = new float[x.Length];
                KernelTestData.WithWidth(w, () => fast(x, y));
                return y;
            }
            var wide = Run(512);
            Assert.True(wide.AsSpan().SequenceEqual(Run(256)), $"{name}: 512 vs 256");
            Assert.True(wide.AsSpan().SequenceEqual(Run(0)), $"{name}: 512 vs scalar");
        }
    }

    [Fact]
    public void ErfIsWithinOneTenthMicroOfTheTrueValueEverywhere()
    {
        // Dense sweep over [-6, 6], where float32 erf goes from -1 to 1.
        int n = 200_001;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -6f + 12f * i / (n - 1);
        var fast = new float[n];
        Activations.Erf(x, fast);
        double worst = 0;
        for (int i = 0; i < n; i++) worst = Math.Max(worst, Math.Abs(fast[i] - ActivationsReference.Erf(x[i])));
        Assert.True(worst < 1.5e-7, $"max |erf error| {worst:E3}");
    }

    [Fact]
    public void ReferenceErfMatchesPublishedValues()
    {
        // Abramowitz & Stegun table values.
        Assert.Equal(0.5204998778130465, ActivationsReference.Erf(0.5), 14);
        Assert.Equal(0.8427007929497149, ActivationsReference.Erf(1.0), 14);
        Assert.Equal(0.9953222650189527, ActivationsReference.Erf(2.0), 14);
        Assert.Equal(0.9999779095030014, ActivationsReference.Erf(3.0), 14);
        Assert.Equal(-0.9999779095030014, ActivationsReference.Erf(-3.0), 14);
        Assert.True(Math.Abs(ActivationsReference.Erfc(5.0) / 1.5374597944280349e-12 - 1) < 1e-12);
    }

    [Fact]
    public void GeluKeepsRelativeAccuracyDeepInTheNegativeTail()
    {
        // x/2·(1 + erf(x/√2)) computed naively in float32 loses every digit below x ≈ -5.5; ours does not.
        float[] x = [-5f, -8f, -11f, -13f];
        var y = new float[x.Length];
        Activations.Gelu(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = x[i] * 0.5 * ActivationsReference.Erfc(-x[i] / Math.Sqrt(2));
            Assert.True(Math.Abs(y[i] - expected) <= 2e-6 * Math.Abs(expected), $"gelu({x[i]}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void SpecialValues()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 100f, -100f];
        var y = new float[x.Length];
        Activations.Exp(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(float.PositiveInfinity, y[1]);
        Assert.Equal(0f, y[2]);
        Assert.Equal(1f, y[3]);
        Assert.Equal(1f, y[4]);
        Assert.Equal(float.PositiveInfinity, y[5]);
        Assert.Equal(3.7835059e-44f, y[6]); // exp(-100) is a float32 denormal

        Activations.Tanh(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(1f, y[1]);
        Assert.Equal(-1f, y[2]);
        Assert.Equal(1f, y[5]);
        Assert.Equal(-1f, y[6]);

        Activations.Erf(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(1f, y[1]);
        Assert.Equal(-1f, y[2]);
        Assert.Equal(0f, y[3]);

        Activations.Gelu(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(float.PositiveInfinity, y[1]);
        Assert.Equal(100f, y[5]);
        Assert.Equal(0f, y[6]);

        Activations.Relu(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(0f, y[2]);
        Assert.Equal(100f, y[5]);
    }

    [Fact]
    public void MismatchedOrPartlyOverlappingSpansAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Activations.Gelu(new float[4], new float[5]));
        Assert.Contains("y has length 5 but x has length 4", ex.Message);
        var buffer = new float[10];
        ex = Assert.Throws<ArgumentException>(() => Activations.Gelu(buffer.AsSpan(0, 8), buffer.AsSpan(1, 8)));
        Assert.Contains("partly overlaps", ex.Message);
    }
}
