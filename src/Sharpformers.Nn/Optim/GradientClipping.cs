using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Nn.Optim;

/// <summary>
/// Gradient clipping by global L2 norm, as <c>torch.nn.utils.clip_grad_norm_(parameters, max_norm)</c>:
/// each gradient's norm is taken (float32 result), the total is the norm of those norms (float32),
/// clip_coef = max_norm / (total + 1e-6) computed in float32, clamped to 1, and every gradient is
/// multiplied by it — so gradients are always rescaled, by exactly 1 when within the limit. Sums of
/// squares accumulate in double, which is at least as accurate as torch's float32 reduction.
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips in place and returns the total norm before clipping (HF logs it as grad_norm).</summary>
    public static float ClipGradNorm(IReadOnlyList<ITrainableParameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max_norm must be positive.");
        }
        float total = GlobalNorm(parameters);
        float coefficient = ClipCoefficient(total, maxNorm);
        foreach (var parameter in parameters)
        {
            GradientKernels.Scale(parameter.Gradient, coefficient);
        }
        return total;
    }

    /// <summary>The global L2 norm of all gradients (torch: the norm of the per-tensor float32 norms).</summary>
    public static float GlobalNorm(IReadOnlyList<ITrainableParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        foreach (var parameter in parameters)
        {
            float norm = (float)Math.Sqrt(GradientKernels.SumOfSquares(parameter.Gradient));
            sum += (double)norm * norm;
        }
        return (float)Math.Sqrt(sum);
    }

    /// <summary>min(1, max_norm / (total + 1e-6)) in float32, as torch computes it on a float32 tensor.</summary>
    public static float ClipCoefficient(float totalNorm, double maxNorm)
    {
        float coefficient = (float)maxNorm / (totalNorm + 1e-6f);
        // torch.clamp(max=1.0) propagates NaN; Math.Min would too.
        return float.IsNaN(coefficient) ? coefficient : Math.Min(coefficient, 1f);
    }
}

/// <summary>Span kernels for gradient handling, each with a naive reference beside it.</summary>
public static class GradientKernels
{
    /// <summary>Σ x², accumulated in double.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        ref float x = ref MemoryMarshal.GetReference(values);
        int n = values.Length;
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var acc = Vector512<double>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lower, upper) = Vector512.Widen(Vector512.LoadUnsafe(ref x, (nuint)i));
                acc += lower * lower + upper * upper;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var acc = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref x, (nuint)i));
                acc += lower * lower + upper * upper;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            double d = System.Runtime.CompilerServices.Unsafe.Add(ref x, i);
            sum += d * d;
        }
        return sum;
    }

    /// <summary>x *= factor, in place.</summary>
    public static void Scale(Span<float> values, float factor)
    {
        ref float x = ref MemoryMarshal.GetReference(values);
        int n = values.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var f = Vector512.Create(factor);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512.LoadUnsafe(ref x, (nuint)i) * f).StoreUnsafe(ref x, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var f = Vector256.Create(factor);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256.LoadUnsafe(ref x, (nuint)i) * f).StoreUnsafe(ref x, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            System.Runtime.CompilerServices.Unsafe.Add(ref x, i) *= factor;
        }
    }

    /// <summary>Naive Σ x² in double, one element at a time.</summary>
    public static double SumOfSquaresReference(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return sum;
    }

    /// <summary>Naive x *= factor.</summary>
    public static void ScaleReference(Span<float> values, float factor)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    /// <summary>True when every value is finite (no NaN or ±infinity).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) return false;
        }
        return true;
    }
}
