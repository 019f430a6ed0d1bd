namespace Sharpformers.Kernels;

/// <summary>
/// The naive, double-precision activations that <see cref="Activations"/> is tested against, and the
/// double-precision erf they need (.NET has none).
/// </summary>
public static class ActivationsReference
{
    // 1 + erf(z) is written as erfc(-z) and 1 + tanh(y) as 2/(1 + exp(-2y)) (the same functions) so the
    // reference keeps its digits where the textbook forms cancel, in the negative tail.
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, v => v * 0.5 * Erfc(-v / Math.Sqrt(2)));

    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y) =>
        Map(x, y, v => v / (1 + Math.Exp(-2 * Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));

    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, v => double.IsNaN(v) ? v : Math.Max(v, 0));

    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, Math.Tanh);

    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, v => 1 / (1 + Math.Exp(-v)));

    public static void Silu(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, v => v / (1 + Math.Exp(-v)));

    public static void QuickGelu(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, v => v / (1 + Math.Exp(-1.702 * v)));

    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, Math.Exp);

    public static void Erf(ReadOnlySpan<float> x, Span<float> y) => Map(x, y, Erf);

    /// <summary>
    /// erf in double: its Maclaurin series below 2.5 (terms stay below 1e3, so about 13 digits survive),
    /// a continued fraction for erfc above (converges fast there).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            // erf(x) = 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax;
            double sum = ax;
            double x2 = ax * ax;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double contribution = term / (2 * n + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum)) break;
            }
            return Math.CopySign(2 / Math.Sqrt(Math.PI) * sum, x);
        }
        return Math.CopySign(1 - Erfc(ax), x);
    }


    /// <summary>
    /// erfc(a): 2 - erfc(-a) below 0, 1 - erf(a) up to 2.5, then the continued fraction
    /// erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))).
    /// </summary>
    public static double Erfc(double a)
    {
        if (double.IsNaN(a)) return a;
        if (a < 0) return 2 - Erfc(-a);
        if (a < 2.5) return 1 - Erf(a);
        double f = a;
        for (int k = 120; k >= 1; k--)
        {
            f = a + k / 2.0 / f;
        }
        return Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
    }

    private static void Map(ReadOnlySpan<float> x, Span<float> y, Func<double, double> f)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = (float)f(x[i]);
        }
    }
}
