namespace Sharpformers.Kernels;

/// <summary>Small reductions over a row (post-processing logits; not on any hot path).</summary>
public static class Reductions
{
    /// <summary>
    /// Index of the largest value; the first one on ties, and the first NaN if there is one (NaN
    /// counts as the maximum, as in torch.argmax). -1 for an empty span.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return -1;
        int best = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) return i;
            if (x[i] > x[best]) best = i;
        }
        return best;
    }

    public static float Max(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) KernelThrow.Argument(nameof(x), "Max of an empty span.");
        float max = x[0];
        foreach (float v in x)
        {
            if (float.IsNaN(v)) return v;
            if (v > max) max = v;
        }
        return max;
    }

    /// <summary>Sum accumulated in double, rounded once.</summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x) sum += v;
        return (float)sum;
    }
}
