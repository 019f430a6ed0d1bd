namespace Sharpformers.Kernels.Tests;

/// <summary>The backward kernels against their double-precision references, at awkward sizes and every vector width.</summary>
public sealed class BackwardKernelTests
{
    public delegate void BackwardKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    private static readonly Dictionary<string, (BackwardKernel Fast, BackwardKernel Reference, Func<double, double> Forward)> ActivationCases = new()
    {
        ["gelu"] = (ActivationsBackward.Gelu, ActivationsBackwardReference.Gelu, v => v * 0.5 * ActivationsReference.Erfc(-v / Math.Sqrt(2))),
        ["gelu_tanh"] = (ActivationsBackward.GeluTanh, ActivationsBackwardReference.GeluTanh,
            v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))),
        ["relu"] = (ActivationsBackward.Relu, ActivationsBackwardReference.Relu, v => Math.Max(v, 0)),
        ["tanh"] = (ActivationsBackward.Tanh, ActivationsBackwardReference.Tanh, Math.Tanh),
        ["sigmoid"] = (ActivationsBackward.Sigmoid, ActivationsBackwardReference.Sigmoid, v => 1 / (1 + Math.Exp(-v))),
        ["silu"] = (ActivationsBackward.Silu, ActivationsBackwardReference.Silu, v => v / (1 + Math.Exp(-v))),
        ["quick_gelu"] = (ActivationsBackward.QuickGelu, ActivationsBackwardReference.QuickGelu, v => v / (1 + Math.Exp(-1.702 * v))),
    };

    public static IEnumerable<object[]> ActivationsBySizeAndWidth() =>
        from name in ActivationCases.Keys from w in KernelTestData.Widths from n in KernelTestData.Sizes select new object[] { name, n, w };

    [Theory]
    [MemberData(nameof(ActivationsBySizeAndWidth))]
    public void ActivationBackwardEqualsReference(string name, int size, int width)
    {
        var (fast, reference, _) = ActivationCases[name];
        var x = KernelTestData.Random(size, seed: size + 11, low: -7f, high: 7f);
        var dy = KernelTestData.Random(size, seed: size + 12, low: -2f, high: 2f);
        var expected = new float[size];
        reference(x, dy, expected);
        var actual = new float[size];
        KernelTestData.WithWidth(width, () => fast(x, dy, actual));
        // Derivatives are O(1) times dy: a relative bound plus an absolute floor where they pass through 0.
        KernelTestData.AssertClose(expected, actual, rel: 2e-6, abs: 4e-7, what: name);
    }

    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_tanh")]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("silu")]
    [InlineData("quick_gelu")]
    public void ReferenceDerivativesMatchCentralDifferencesOfTheForward(string name)
    {
        var (_, reference, forward) = ActivationCases[name];
        for (double v = -8; v <= 8; v += 0.173)
        {
            if (name == "relu" && Math.Abs(v) < 1e-3) continue; // no derivative at the kink
            const double h = 1e-5;
            // The reference is fed float inputs; take the difference quotient at that float.
            float xf = (float)v;
            double numeric = (forward(xf + h) - forward(xf - h)) / (2 * h);
            var dx = new float[1];
            reference([xf], [1f], dx);
            Assert.True(Math.Abs(numeric - dx[0]) <= 1e-6 + 1e-6 * Math.Abs(numeric), $"{name}'({xf}): reference {dx[0]}, central difference {numeric}");
        }
    }

    [Fact]
    public void ActivationBackwardRunsInPlace()
    {
        var x = KernelTestData.Random(37, seed: 5);
        var dy = KernelTestData.Random(37, seed: 6);
        var expected = new float[37];
        ActivationsBackward.Gelu(x, dy, expected);
        var inPlace = (float[])dy.Clone();
        ActivationsBackward.Gelu(x, inPlace, inPlace);
        Assert.Equal(expected, inPlace);
        ActivationsBackward.TanhFromOutput(x, dy, expected);
        Assert.Equal(dy[3] * (1 - x[3] * x[3]), expected[3], 6);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void SoftmaxBackwardEqualsReference(int size, int width)
    {
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 3;
        var scores = KernelTestData.Random(rows * cols, seed: cols, low: -4f, high: 4f);
        var probs = new float[scores.Length];
        // A masked tail on the last row: those keys have p = 0 and must get no gradient.
        var mask = new float[cols];
        for (int c = cols / 2 + 1; c < cols; c++) mask[c] = float.MinValue;
        SoftmaxReference.Rows(scores, cols, mask, probs);
        var dp = KernelTestData.Random(rows * cols, seed: cols + 1, low: -1f, high: 1f);
        var expected = new float[probs.Length];
        SoftmaxBackwardReference.Rows(probs, dp, cols, 0.125f, expected);
        var actual = new float[probs.Length];
        KernelTestData.WithWidth(width, () => SoftmaxBackward.Rows(probs, dp, cols, 0.125f, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-7, what: "dScores");
        for (int c = cols / 2 + 1; c < cols; c++) Assert.Equal(0f, actual[c]);
        // In place over dProbs.
        KernelTestData.WithWidth(width, () => SoftmaxBackward.Rows(probs, dp, cols, 0.125f, dp));
        Assert.Equal(actual, dp);
    }

    [Fact]
    public void SoftmaxBackwardMatchesCentralDifferences()
    {
        // L = Σ w ∘ softmax(s): dL/ds from the kernel against (L(s + h) − L(s − h)) / 2h in double.
        var s = KernelTestData.Random(9, seed: 3, low: -2f, high: 2f);
        var w = KernelTestData.Random(9, seed: 4);
        var p = new float[9];
        SoftmaxReference.Rows(s, 9, ReadOnlySpan<float>.Empty, p);
        var ds = new float[9];
        SoftmaxBackward.Rows(p, w, 9, 1f, ds);
        double Loss(double[] scores)
        {
            double max = scores.Max();
            double z = scores.Sum(v => Math.Exp(v - max));
            return scores.Select((v, i) => w[i] * Math.Exp(v - max) / z).Sum();
        }
        for (int i = 0; i < 9; i++)
        {
            var plus = s.Select(v => (double)v).ToArray();
            var minus = (double[])plus.Clone();
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            Assert.Equal((Loss(plus) - Loss(minus)) / 2e-6, ds[i], 5);
        }
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void LayerNormBackwardEqualsReference(int size, int width)
    {
        int cols = Math.Max(size, 1);
        int rows = size == 0 ? 0 : 4;
        var x = KernelTestData.Random(rows * cols, seed: cols, low: -3f, high: 5f);
        var w = KernelTestData.Random(cols, seed: cols + 1, low: 0.5f, high: 1.5f);
        var b = KernelTestData.Random(cols, seed: cols + 2);
        var mean = new float[rows];
        var rstd = new float[rows];
        Normalization.LayerNorm(x, w, b, 1e-5f, new float[x.Length], mean, rstd);
        var dy = KernelTestData.Random(rows * cols, seed: cols + 3, low: -1f, high: 1f);
        var expectedDx = new float[x.Length];
        var expectedDw = KernelTestData.Random(cols, seed: 1, low: -0.1f, high: 0.1f);
        var expectedDb = KernelTestData.Random(cols, seed: 2, low: -0.1f, high: 0.1f);
        var dw = (float[])expectedDw.Clone();
        var db = (float[])expectedDb.Clone();
        NormalizationBackwardReference.LayerNorm(x, mean, rstd, w, dy, expectedDx, expectedDw, expectedDb);
        var dx = new float[x.Length];
        KernelTestData.WithWidth(width, () => NormalizationBackward.LayerNorm(x, mean, rstd, w, dy, dx, dw, db));
        // dx subtracts two row means from g: its error scales with |g| (≤ 1.5·rstd), not with |dx|.
        float maxRstd = rstd.Length == 0 ? 1f : rstd.Max();
        KernelTestData.AssertClose(expectedDx, dx, rel: 1e-5, abs: 2e-6 * maxRstd, what: "dx");
        KernelTestData.AssertClose(expectedDw, dw, rel: 1e-5, abs: 2e-6, what: "dWeight");
        KernelTestData.AssertClose(expectedDb, db, rel: 1e-5, abs: 2e-6, what: "dBias");
    }

    [Fact]
    public void LayerNormBackwardMatchesCentralDifferencesInDouble()
    {
        // L = Σ u ∘ LayerNorm(x): the kernel's dx, dWeight, dBias against central differences of a double forward.
        const int cols = 13;
        const double eps = 1e-5;
        var x = KernelTestData.Random(2 * cols, seed: 7, low: -2f, high: 2f);
        var w = KernelTestData.Random(cols, seed: 8, low: 0.5f, high: 1.5f);
        var b = KernelTestData.Random(cols, seed: 9);
        var u = KernelTestData.Random(2 * cols, seed: 10);
        double Loss(double[] xs, double[] ws, double[] bs)
        {
            double total = 0;
            for (int r = 0; r < 2; r++)
            {
                double m = 0, v = 0;
                for (int c = 0; c < cols; c++) m += xs[r * cols + c];
                m /= cols;
                for (int c = 0; c < cols; c++) v += (xs[r * cols + c] - m) * (xs[r * cols + c] - m);
                double s = 1 / Math.Sqrt(v / cols + eps);
                for (int c = 0; c < cols; c++) total += u[r * cols + c] * ((xs[r * cols + c] - m) * s * ws[c] + bs[c]);
            }
            return total;
        }
        var mean = new float[2];
        var rstd = new float[2];
        Normalization.LayerNorm(x, w, b, (float)eps, new float[x.Length], mean, rstd);
        var dx = new float[x.Length];
        var dw = new float[cols];
        var db = new float[cols];
        NormalizationBackward.LayerNorm(x, mean, rstd, w, u, dx, dw, db);
        double[] xd = [.. x.Select(v => (double)v)], wd = [.. w.Select(v => (double)v)], bd = [.. b.Select(v => (double)v)];
        void Check(double[] values, float[] analytic, string what)
        {
            for (int i = 0; i < values.Length; i++)
            {
                double original = values[i];
                values[i] = original + 1e-6;
                double plus = Loss(xd, wd, bd);
                values[i] = original - 1e-6;
                double minus = Loss(xd, wd, bd);
                values[i] = original;
                double numeric = (plus - minus) / 2e-6;
                Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-5 + 1e-4 * Math.Abs(numeric), $"{what}[{i}]: analytic {analytic[i]}, numeric {numeric}");
            }
        }
        Check(xd, dx, "dx");
        Check(wd, dw, "dWeight");
        Check(bd, db, "dBias");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.WidthsOnly), MemberType = typeof(KernelTestData))]
    public void ScatterAddEqualsReferenceSkipsPaddingAndAcceptsColumnWindows(int width)
    {
        const int cols = 37;
        const int tableRows = 11;
        int[] ids = [3, 0, 3, 10, 7, 3, 0, 1];
        var dy = KernelTestData.Random(ids.Length * cols, seed: 1);
        var expected = KernelTestData.Random(tableRows * cols, seed: 2);
        var actual = (float[])expected.Clone();
        EmbeddingLookupBackwardReference.ScatterAdd(dy, cols, ids, paddingIdx: 0, expected, cols, cols);
        // Two column windows, as two threads would do them.
        KernelTestData.WithWidth(width, () =>
        {
            EmbeddingLookupBackward.ScatterAdd(dy, cols, ids, 0, actual, cols, 20);
            EmbeddingLookupBackward.ScatterAdd(dy.AsSpan(20), cols, ids, 0, actual.AsSpan(20), cols, cols - 20);
        });
        KernelTestData.AssertClose(expected, actual, rel: 1e-6, abs: 1e-6, what: "tableGrad");
        var before = KernelTestData.Random(tableRows * cols, seed: 2);
        Assert.Equal(before.AsSpan(0, cols).ToArray(), actual.AsSpan(0, cols).ToArray()); // the padding row is untouched
        Assert.Equal(before[5 * cols], actual[5 * cols]);                                   // an unused row too
        Assert.Equal(before[3 * cols + 4] + dy[4] + dy[2 * cols + 4] + dy[5 * cols + 4], actual[3 * cols + 4], 5);
    }

    [Fact]
    public void ScatterAddRejectsAnIdOutsideTheTable()
    {
        var ex = Assert.Throws<ArgumentException>(() => EmbeddingLookupBackward.ScatterAdd(new float[8], 4, [0, 5], -1, new float[12], 4, 4));
        Assert.Contains("Index 5 at position 1", ex.Message);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void ColumnSumsEqualReference(int size, int width)
    {
        int rows = 1 + size % 7;
        int stride = size + 3;
        var x = KernelTestData.Random(rows * stride, seed: size);
        var expected = KernelTestData.Random(size, seed: size + 1);
        var actual = (float[])expected.Clone();
        ColumnReductionsReference.AddColumnSums(x, rows, stride, expected);
        KernelTestData.WithWidth(width, () => ColumnReductions.AddColumnSums(x, rows, stride, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-5, abs: 1e-5, what: "column sums");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.SizesByWidth), MemberType = typeof(KernelTestData))]
    public void DropoutEqualsReferenceAndIsAPureFunctionOfSeedAndIndex(int size, int width)
    {
        var expectedMask = new byte[size];
        DropoutMaskReference.Draw(42, 1000, 0.3f, expectedMask);
        var mask = new byte[size];
        DropoutMask.Draw(42, 1000, 0.3f, mask.AsSpan(0, size / 2));
        DropoutMask.Draw(42, 1000 + size / 2, 0.3f, mask.AsSpan(size / 2));  // drawn in two slices
        Assert.Equal(expectedMask, mask);
        var x = KernelTestData.Random(size, seed: size);
        var expected = new float[size];
        DropoutMaskReference.Apply(x, mask, 1f / 0.7f, expected);
        var actual = new float[size];
        KernelTestData.WithWidth(width, () => DropoutMask.Apply(x, mask, 1f / 0.7f, actual));
        KernelTestData.AssertClose(expected, actual, rel: 1e-7, abs: 0, what: "dropout");
    }

    [Fact]
    public void DropoutDropsTheRequestedFractionAndSeedsDiffer()
    {
        var a = new byte[200_000];
        var b = new byte[200_000];
        DropoutMask.Draw(1, 0, 0.1f, a);
        DropoutMask.Draw(2, 0, 0.1f, b);
        double keptA = a.Count(k => k == 1) / (double)a.Length;
        Assert.InRange(keptA, 0.897, 0.903);          // 0.9 ± 4.5 standard deviations
        Assert.NotEqual(a, b);
        DropoutMask.Draw(1, 0, 0f, a);
        Assert.All(a, k => Assert.Equal(1, k));
        Assert.Throws<ArgumentException>(() => DropoutMask.Draw(1, 0, 1f, a));
    }
}
