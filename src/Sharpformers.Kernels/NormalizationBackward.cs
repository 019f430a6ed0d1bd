using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Backward of <see cref="Normalization.LayerNorm"/> from its input and the saved per-row mean and
/// rstd (llm.c's layernorm_backward): with x̂ = (x − mean)·rstd and g = dy ∘ weight,
/// dx = rstd · (g − mean(g) − x̂ ∘ mean(g ∘ x̂)); dWeight += Σ_rows dy ∘ x̂, dBias += Σ_rows dy.
/// Naive twin: <see cref="NormalizationBackwardReference"/>.
/// </summary>
public static class NormalizationBackward
{
    /// <summary>
    /// Rows of weight.Length columns. dx is overwritten (it may be dy); dWeight and dBias are
    /// accumulated into, row by row in order.
    /// </summary>
    public static void LayerNorm(
        ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dWeight, Span<float> dBias)
    {
        int cols = weight.Length;
        int rows = Validate(x, mean, rstd, cols, dy, dx, dWeight, dBias);
        for (int r = 0; r < rows; r++)
        {
            Row(x.Slice(r * cols, cols), mean[r], rstd[r], weight, dy.Slice(r * cols, cols), dx.Slice(r * cols, cols), dWeight, dBias);
        }
    }

    internal static int Validate(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int cols,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> dx, ReadOnlySpan<float> dWeight, ReadOnlySpan<float> dBias)
    {
        int rows = Checks.Rows(x, cols, nameof(x));
        Checks.Length(mean, rows, nameof(mean), "one entry per row");
        Checks.Length(rstd, rows, nameof(rstd), "one entry per row");
        Checks.Length(dy, x.Length, nameof(dy), "same shape as x");
        Checks.SameLengthOrAlias(dy, dx, nameof(dy), nameof(dx));
        Checks.Length(dWeight, cols, nameof(dWeight), "one entry per column");
        Checks.Length(dBias, cols, nameof(dBias), "one entry per column");
        return rows;
    }

    private static void Row(ReadOnlySpan<float> x, float mean, float rstd, ReadOnlySpan<float> w,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw, Span<float> db)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        ref float dwr = ref MemoryMarshal.GetReference(dw);
        ref float dbr = ref MemoryMarshal.GetReference(db);
        int n = x.Length;

        // Pass 1: Σ g, Σ g·x̂, and the parameter gradients.
        float sumG = 0f, sumGx = 0f;
        int i = 0;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var vm = Vector512.Create(mean);
            var vs = Vector512.Create(rstd);
            var accG = Vector512<float>.Zero;
            var accGx = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var xhat = (Vector512.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                var d = Vector512.LoadUnsafe(ref gr, (nuint)i);
                var g = d * Vector512.LoadUnsafe(ref wr, (nuint)i);
                accG += g;
                accGx = Vector512.FusedMultiplyAdd(g, xhat, accGx);
                Vector512.FusedMultiplyAdd(d, xhat, Vector512.LoadUnsafe(ref dwr, (nuint)i)).StoreUnsafe(ref dwr, (nuint)i);
                (Vector512.LoadUnsafe(ref dbr, (nuint)i) + d).StoreUnsafe(ref dbr, (nuint)i);
            }
            sumG = Vector512.Sum(accG);
            sumGx = Vector512.Sum(accGx);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var vm = Vector256.Create(mean);
            var vs = Vector256.Create(rstd);
            var accG = Vector256<float>.Zero;
            var accGx = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var xhat = (Vector256.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                var d = Vector256.LoadUnsafe(ref gr, (nuint)i);
                var g = d * Vector256.LoadUnsafe(ref wr, (nuint)i);
                accG += g;
                accGx = Vector256.FusedMultiplyAdd(g, xhat, accGx);
                Vector256.FusedMultiplyAdd(d, xhat, Vector256.LoadUnsafe(ref dwr, (nuint)i)).StoreUnsafe(ref dwr, (nuint)i);
                (Vector256.LoadUnsafe(ref dbr, (nuint)i) + d).StoreUnsafe(ref dbr, (nuint)i);
            }
            sumG = Vector256.Sum(accG);
            sumGx = Vector256.Sum(accGx);
        }
        for (; i < n; i++)
        {
            float xhat = (x[i] - mean) * rstd;
            float g = dy[i] * w[i];
            sumG += g;
            sumGx += g * xhat;
            dw[i] = MathF.FusedMultiplyAdd(dy[i], xhat, dw[i]);
            db[i] += dy[i];
        }

        // Pass 2: dx (element-local given the two sums, so dx may overwrite dy).
        float meanG = sumG / n;
        float meanGx = sumGx / n;
        i = 0;
        if (SimdLevel.Use512)
        {
            var vm = Vector512.Create(mean);
            var vs = Vector512.Create(rstd);
            var va = Vector512.Create(meanG);
            var vb = Vector512.Create(meanGx);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var xhat = (Vector512.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                var g = Vector512.LoadUnsafe(ref gr, (nuint)i) * Vector512.LoadUnsafe(ref wr, (nuint)i);
                ((g - va - xhat * vb) * vs).StoreUnsafe(ref dxr, (nuint)i);
            }
        }
        else if (SimdLevel.Use256)
        {
            var vm = Vector256.Create(mean);
            var vs = Vector256.Create(rstd);
            var va = Vector256.Create(meanG);
            var vb = Vector256.Create(meanGx);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var xhat = (Vector256.LoadUnsafe(ref xr, (nuint)i) - vm) * vs;
                var g = Vector256.LoadUnsafe(ref gr, (nuint)i) * Vector256.LoadUnsafe(ref wr, (nuint)i);
                ((g - va - xhat * vb) * vs).StoreUnsafe(ref dxr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float xhat = (x[i] - mean) * rstd;
            float g = dy[i] * w[i];
            dx[i] = (g - meanG - xhat * meanGx) * rstd;
        }
    }
}

/// <summary>The naive, double-precision LayerNorm backward that <see cref="NormalizationBackward"/> is tested against.</summary>
public static class NormalizationBackwardReference
{
    public static void LayerNorm(
        ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dWeight, Span<float> dBias)
    {
        int cols = weight.Length;
        int rows = NormalizationBackward.Validate(x, mean, rstd, cols, dy, dx, dWeight, dBias);
        var dw = new double[cols];
        var db = new double[cols];
        var g = new double[cols];
        var xhat = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            double sumG = 0, sumGx = 0;
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                xhat[c] = ((double)x[i] - mean[r]) * rstd[r];
                g[c] = (double)dy[i] * weight[c];
                sumG += g[c];
                sumGx += g[c] * xhat[c];
                dw[c] += dy[i] * xhat[c];
                db[c] += dy[i];
            }
            for (int c = 0; c < cols; c++)
            {
                dx[r * cols + c] = (float)(rstd[r] * (g[c] - sumG / cols - xhat[c] * sumGx / cols));
            }
        }
        for (int c = 0; c < cols; c++)
        {
            dWeight[c] = (float)(dWeight[c] + dw[c]);
            dBias[c] = (float)(dBias[c] + db[c]);
        }
    }
}
