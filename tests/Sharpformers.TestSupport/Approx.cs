namespace Sharpformers.TestSupport;

/// <summary>Element-wise float comparisons that report the first mismatch with its index.</summary>
public static class Approx
{
    /// <summary>Asserts |expected[i] - actual[i]| &lt;= absTol + relTol * |expected[i]| for every i.</summary>
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double absTol, double relTol = 0, string what = "values")
    {
        if (expected.Length != actual.Length)
        {
            throw new Xunit.Sdk.XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        }
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)expected[i] - actual[i]);
            double allowed = absTol + relTol * Math.Abs((double)expected[i]);
            if (!(diff <= allowed))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{what}[{i}]: expected {expected[i]:R}, actual {actual[i]:R}, |diff| {diff:E3} > allowed {allowed:E3}");
            }
        }
    }

    /// <summary>The largest absolute difference, for reporting.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double worst = 0;
        for (int i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        }
        return worst;
    }
}
