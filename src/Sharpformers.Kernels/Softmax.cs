using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Row-wise softmax, max-subtracted, with an optional additive mask shared by every row (attention:
/// 0 for a key to keep, float.MinValue for a padded key). A row whose every entry is masked gets the
/// uniform distribution, as torch does with finfo.min masks. Naive twin: <see cref="SoftmaxReference"/>.
/// </summary>
public static class Softmax
{
    /// <summary>y[r, :] = softmax(x[r, :]) for rows of <paramref name="cols"/>; y may be x.</summary>
    public static void Rows(ReadOnlySpan<float> x, int cols, Span<float> y) => Rows(x, cols, ReadOnlySpan<float>.Empty, y);

    /// <summary>
    /// y[r, :] = softmax(x[r, :] + additiveMask) for rows of <paramref name="cols"/>; the mask is empty
    /// (none) or has <paramref name="cols"/> entries; y may be x.
    /// </summary>
    public static void Rows(ReadOnlySpan<float> x, int cols, ReadOnlySpan<float> additiveMask, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int rows = Checks.Rows(x, cols, nameof(x));
        if (!additiveMask.IsEmpty) Checks.Length(additiveMask, cols, nameof(additiveMask), "one entry per column");
        for (int r = 0; r < rows; r++)
        {
            Row(x.Slice(r * cols, cols), additiveMask, y.Slice(r * cols, cols));
        }
    }

    private static void Row(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> y)
    {
        int n = x.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float mr = ref MemoryMarshal.GetReference(mask);
        bool masked = !mask.IsEmpty;

        // Pass 1: y = x + mask, and the row maximum.
        float max = float.NegativeInfinity;
        int i = 0;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var vmax = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                if (masked) v += Vector512.LoadUnsafe(ref mr, (nuint)i);
                v.StoreUnsafe(ref yr, (nuint)i);
                vmax = Vector512.Max(vmax, v);
            }
            max = HorizontalMax(vmax);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var vmax = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                if (masked) v += Vector256.LoadUnsafe(ref mr, (nuint)i);
                v.StoreUnsafe(ref yr, (nuint)i);
                vmax = Vector256.Max(vmax, v);
            }
            max = HorizontalMax(vmax);
        }
        for (; i < n; i++)
        {
            float v = masked ? x[i] + mask[i] : x[i];
            y[i] = v;
            max = MaxPropagatingNaN(max, v);
        }

        // Pass 2: y = exp(y - max), and the sum.
        float sum = 0f;
        i = 0;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var vm = Vector512.Create(max);
            var vsum = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var e = SimdMath.Exp(Vector512.LoadUnsafe(ref yr, (nuint)i) - vm);
                e.StoreUnsafe(ref yr, (nuint)i);
                vsum += e;
            }
            sum = Vector512.Sum(vsum);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var vm = Vector256.Create(max);
            var vsum = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var e = SimdMath.Exp(Vector256.LoadUnsafe(ref yr, (nuint)i) - vm);
                e.StoreUnsafe(ref yr, (nuint)i);
                vsum += e;
            }
            sum = Vector256.Sum(vsum);
        }
        for (; i < n; i++)
        {
            float e = SimdMath.Exp(y[i] - max);
            y[i] = e;
            sum += e;
        }

        // Pass 3: normalise.
        Elementwise.Scale(y, 1f / sum, y);
    }

    private static float MaxPropagatingNaN(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Max(a, b);

    private static float HorizontalMax(Vector512<float> v) =>
        HorizontalMax(Vector256.Max(v.GetLower(), v.GetUpper()));

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        float max = m[0];
        for (int i = 1; i < Vector128<float>.Count; i++) max = MaxPropagatingNaN(max, m[i]);
        return max;
    }
}

/// <summary>The naive, double-precision softmax that <see cref="Softmax"/> is tested against.</summary>
public static class SoftmaxReference
{
    public static void Rows(ReadOnlySpan<float> x, int cols, ReadOnlySpan<float> additiveMask, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int rows = Checks.Rows(x, cols, nameof(x));
        if (!additiveMask.IsEmpty) Checks.Length(additiveMask, cols, nameof(additiveMask), "one entry per column");
        var buffer = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++)
            {
                // The mask is added in float, as the model does, so float.MinValue saturates the same way.
                float v = x[r * cols + c] + (additiveMask.IsEmpty ? 0f : additiveMask[c]);
                buffer[c] = v;
                max = Math.Max(max, v);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                buffer[c] = Math.Exp(buffer[c] - max);
                sum += buffer[c];
            }
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)(buffer[c] / sum);
        }
    }
}
