using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Backward of row-wise softmax: given p = softmax(s) and dL/dp, dL/ds = p ∘ (dL/dp − Σⱼ pⱼ·dL/dpⱼ),
/// optionally times a constant (attention folds its 1/√d score scale in here). A masked key has
/// p = 0 and so gets no gradient. Naive twin: <see cref="SoftmaxBackwardReference"/>.
/// </summary>
public static class SoftmaxBackward
{
    /// <summary>dScores[r, :] = scale · p[r, :] ∘ (dProbs[r, :] − ⟨p[r, :], dProbs[r, :]⟩); dScores may be dProbs.</summary>
    public static void Rows(ReadOnlySpan<float> probs, ReadOnlySpan<float> dProbs, int cols, float scale, Span<float> dScores)
    {
        Checks.SameLengthOrAlias(probs, dProbs, nameof(probs), nameof(dProbs));
        Checks.SameLengthOrAlias(dProbs, dScores, nameof(dProbs), nameof(dScores));
        Checks.NoPartialOverlap(probs, dScores, nameof(dScores));
        int rows = Checks.Rows(probs, cols, nameof(probs));
        for (int r = 0; r < rows; r++)
        {
            Row(probs.Slice(r * cols, cols), dProbs.Slice(r * cols, cols), scale, dScores.Slice(r * cols, cols));
        }
    }

    private static void Row(ReadOnlySpan<float> p, ReadOnlySpan<float> dp, float scale, Span<float> ds)
    {
        ref float pr = ref MemoryMarshal.GetReference(p);
        ref float gr = ref MemoryMarshal.GetReference(dp);
        ref float sr = ref MemoryMarshal.GetReference(ds);
        int n = p.Length;
        int i = 0;
        float dot = 0f;
        if (SimdLevel.Use512 && n >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pr, (nuint)i), Vector512.LoadUnsafe(ref gr, (nuint)i), acc);
            dot = Vector512.Sum(acc);
        }
        else if (SimdLevel.Use256 && n >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pr, (nuint)i), Vector256.LoadUnsafe(ref gr, (nuint)i), acc);
            dot = Vector256.Sum(acc);
        }
        for (; i < n; i++) dot += p[i] * dp[i];

        i = 0;
        if (SimdLevel.Use512)
        {
            var vd = Vector512.Create(dot);
            var vs = Vector512.Create(scale);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var pv = Vector512.LoadUnsafe(ref pr, (nuint)i);
                ((Vector512.LoadUnsafe(ref gr, (nuint)i) - vd) * pv * vs).StoreUnsafe(ref sr, (nuint)i);
            }
        }
        else if (SimdLevel.Use256)
        {
            var vd = Vector256.Create(dot);
            var vs = Vector256.Create(scale);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                ((Vector256.LoadUnsafe(ref gr, (nuint)i) - vd) * pv * vs).StoreUnsafe(ref sr, (nuint)i);
            }
        }
        for (; i < n; i++) ds[i] = (dp[i] - dot) * p[i] * scale;
    }
}

/// <summary>The naive, double-precision softmax backward that <see cref="SoftmaxBackward"/> is tested against.</summary>
public static class SoftmaxBackwardReference
{
    public static void Rows(ReadOnlySpan<float> probs, ReadOnlySpan<float> dProbs, int cols, float scale, Span<float> dScores)
    {
        Checks.SameLengthOrAlias(probs, dProbs, nameof(probs), nameof(dProbs));
        Checks.SameLengthOrAlias(dProbs, dScores, nameof(dProbs), nameof(dScores));
        int rows = Checks.Rows(probs, cols, nameof(probs));
        for (int r = 0; r < rows; r++)
        {
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += (double)probs[r * cols + c] * dProbs[r * cols + c];
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                dScores[i] = (float)((dProbs[i] - dot) * probs[i] * scale);
            }
        }
    }
}
