using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// LayerNorm over the last dimension (torch's nn.LayerNorm: biased variance, eps inside the square
/// root). Naive twin: <see cref="NormalizationReference"/>.
/// </summary>
public static class Normalization
{
    /// <summary>
    /// y[r, :] = (x[r, :] - mean_r) · rstd_r · weight + bias, for rows of weight.Length columns. The
    /// per-row mean and rstd = 1/√(var + eps) are written to <paramref name="mean"/> and
    /// <paramref name="rstd"/> when those are non-empty (backward needs them). y may be x.
    /// </summary>
    public static void LayerNorm(
        ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps,
        Span<float> y, Span<float> mean, Span<float> rstd)
    {
        int cols = weight.Length;
        Checks.Length(bias, cols, nameof(bias), "bias matches weight");
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int rows = Checks.Rows(x, cols, nameof(x));
        if (!mean.IsEmpty) Checks.Length(mean, rows, nameof(mean), "one entry per row");
        if (!rstd.IsEmpty) Checks.Length(rstd, rows, nameof(rstd), "one entry per row");
        if (!(eps >= 0)) KernelThrow.Argument(nameof(eps), $"eps must be a non-negative number, got {eps}.");
        for (int r = 0; r < rows; r++)
        {
            var xs = x.Slice(r * cols, cols);
            float m = Sum(xs) / cols;
            float variance = SumSquaredDeviations(xs, m) / cols;
            float s = 1f / MathF.Sqrt(variance + eps);
            Normalize(xs, m, s, weight, bias, y.Slice(r * cols, cols));
            if (!mean.IsEmpty) mean[r] = m;
            if (!rstd.IsEmpty) rstd[r] = s;
        }
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        float sum = 0f;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) acc += Vector512.LoadUnsafe(ref xr, (nuint)i);
            sum = Vector512.Sum(acc);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count) acc += Vector256.LoadUnsafe(ref xr, (nuint)i);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    private static float SumSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        float sum = 0f;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            var vm = Vector512.Create(mean);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var d = Vector512.LoadUnsafe(ref xr, (nuint)i) - vm;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }
            sum = Vector512.Sum(acc);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            var vm = Vector256.Create(mean);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var d = Vector256.LoadUnsafe(ref xr, (nuint)i) - vm;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            float d = x[i] - mean;
            sum += d * d;
        }
        return sum;
    }

    private static void Normalize(ReadOnlySpan<float> x, float mean, float rstd, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        if (SimdLevel.Use512)
        {
            var vm = Vector512.Create(mean);
            var vs = Vector512.Create(rstd);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var normalized = (Vector512.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                Vector512.FusedMultiplyAdd(normalized, Vector512.LoadUnsafe(ref wr, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
            }
        }
        else if (SimdLevel.Use256)
        {
            var vm = Vector256.Create(mean);
            var vs = Vector256.Create(rstd);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var normalized = (Vector256.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                Vector256.FusedMultiplyAdd(normalized, Vector256.LoadUnsafe(ref wr, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd((x[i] - mean) * rstd, w[i], b[i]);
        }
    }
}

/// <summary>The naive, double-precision LayerNorm that <see cref="Normalization"/> is tested against.</summary>
public static class NormalizationReference
{
    public static void LayerNorm(
        ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps,
        Span<float> y, Span<float> mean, Span<float> rstd)
    {
        int cols = weight.Length;
        Checks.Length(bias, cols, nameof(bias), "bias matches weight");
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int rows = Checks.Rows(x, cols, nameof(x));
        for (int r = 0; r < rows; r++)
        {
            double m = 0;
            for (int c = 0; c < cols; c++) m += x[r * cols + c];
            m /= cols;
            double v = 0;
            for (int c = 0; c < cols; c++)
            {
                double d = x[r * cols + c] - m;
                v += d * d;
            }
            v /= cols;
            double s = 1 / Math.Sqrt(v + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)((x[r * cols + c] - m) * s * weight[c] + bias[c]);
            if (!mean.IsEmpty) mean[r] = (float)m;
            if (!rstd.IsEmpty) rstd[r] = (float)s;
        }
    }
}
