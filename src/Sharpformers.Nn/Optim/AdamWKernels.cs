using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Nn.Optim;

/// <summary>
/// The per-step float32 constants of one AdamW update, derived the way torch 1.13's
/// <c>_single_tensor_adamw</c> derives them: everything scalar is computed in double (Python floats)
/// and cast to float32 where it meets a tensor.
/// </summary>
public readonly record struct AdamWCoefficients(
    float Decay,
    float Beta1,
    float OneMinusBeta1,
    float Beta2,
    float OneMinusBeta2,
    float BiasCorrection2Sqrt,
    float Eps,
    float NegativeStepSize)
{
    /// <param name="learningRate">The group's current lr (a double, as torch keeps it).</param>
    /// <param name="step">The parameter's step count after this update's increment (1 on the first update).</param>
    public static AdamWCoefficients For(double learningRate, double beta1, double beta2, double eps, double weightDecay, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        double stepSize = learningRate / biasCorrection1;
        return new AdamWCoefficients(
            Decay: (float)(1 - learningRate * weightDecay),
            Beta1: (float)beta1,
            OneMinusBeta1: (float)(1 - beta1),
            Beta2: (float)beta2,
            OneMinusBeta2: (float)(1 - beta2),
            BiasCorrection2Sqrt: (float)Math.Sqrt(biasCorrection2),
            Eps: (float)eps,
            NegativeStepSize: (float)-stepSize);
    }
}

/// <summary>
/// The AdamW update (decoupled weight decay, bias-corrected moments) over spans, in torch's order
/// of float32 operations:
/// <code>
/// p  = p * decay                      // param.mul_(1 - lr * wd)
/// m  = m * b1;  m = m + (1 - b1) * g   // exp_avg.mul_(b1).add_(g, alpha=1 - b1)
/// v  = v * b2;  v = v + (1 - b2) * g * g   // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)
/// d  = sqrt(v) / sqrt(bc2) + eps       // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
/// p  = p + (-step_size * m) / d        // param.addcdiv_(m, d, value=-step_size)
/// </code>
/// Only lane-exact operations (no fused multiply-add) are used, so the Vector512, Vector256 and
/// scalar paths give bit-identical results on every machine.
/// </summary>
public static class AdamWKernels
{
    /// <summary>One AdamW update of <paramref name="param"/> and its moments, in place.</summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> expAvg, Span<float> expAvgSq, in AdamWCoefficients c)
    {
        CheckLengths(param.Length, grad.Length, expAvg.Length, expAvgSq.Length);
        int n = param.Length;
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float g = ref MemoryMarshal.GetReference(grad);
        ref float m = ref MemoryMarshal.GetReference(expAvg);
        ref float v = ref MemoryMarshal.GetReference(expAvgSq);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var decay = Vector512.Create(c.Decay);
            var b1 = Vector512.Create(c.Beta1);
            var c1 = Vector512.Create(c.OneMinusBeta1);
            var b2 = Vector512.Create(c.Beta2);
            var c2 = Vector512.Create(c.OneMinusBeta2);
            var bc2 = Vector512.Create(c.BiasCorrection2Sqrt);
            var eps = Vector512.Create(c.Eps);
            var step = Vector512.Create(c.NegativeStepSize);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                var pi = Vector512.LoadUnsafe(ref p, (nuint)i) * decay;
                var mi = Vector512.LoadUnsafe(ref m, (nuint)i) * b1;
                mi += c1 * gi;
                var vi = Vector512.LoadUnsafe(ref v, (nuint)i) * b2;
                vi += c2 * gi * gi;
                var denom = Vector512.Sqrt(vi) / bc2 + eps;
                pi += step * mi / denom;
                pi.StoreUnsafe(ref p, (nuint)i);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var decay = Vector256.Create(c.Decay);
            var b1 = Vector256.Create(c.Beta1);
            var c1 = Vector256.Create(c.OneMinusBeta1);
            var b2 = Vector256.Create(c.Beta2);
            var c2 = Vector256.Create(c.OneMinusBeta2);
            var bc2 = Vector256.Create(c.BiasCorrection2Sqrt);
            var eps = Vector256.Create(c.Eps);
            var step = Vector256.Create(c.NegativeStepSize);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var gi = Vector256.LoadUnsafe(ref g, (nuint)i);
                var pi = Vector256.LoadUnsafe(ref p, (nuint)i) * decay;
                var mi = Vector256.LoadUnsafe(ref m, (nuint)i) * b1;
                mi += c1 * gi;
                var vi = Vector256.LoadUnsafe(ref v, (nuint)i) * b2;
                vi += c2 * gi * gi;
                var denom = Vector256.Sqrt(vi) / bc2 + eps;
                pi += step * mi / denom;
                pi.StoreUnsafe(ref p, (nuint)i);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            ScalarStep(ref Unsafe.Add(ref p, i), Unsafe.Add(ref g, i), ref Unsafe.Add(ref m, i), ref Unsafe.Add(ref v, i), c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarStep(ref float p, float g, ref float m, ref float v, in AdamWCoefficients c)
    {
        p *= c.Decay;
        m *= c.Beta1;
        m += c.OneMinusBeta1 * g;
        v *= c.Beta2;
        v += c.OneMinusBeta2 * g * g;
        float denom = MathF.Sqrt(v) / c.BiasCorrection2Sqrt + c.Eps;
        p += c.NegativeStepSize * m / denom;
    }

    internal static void CheckLengths(int param, int grad, int expAvg, int expAvgSq)
    {
        if (grad != param) Throw(nameof(grad), grad, param);
        if (expAvg != param) Throw(nameof(expAvg), expAvg, param);
        if (expAvgSq != param) Throw(nameof(expAvgSq), expAvgSq, param);
    }

    [DoesNotReturn]
    private static void Throw(string name, int length, int expected) =>
        throw new ArgumentException($"{name} has {length} elements but param has {expected}.", name);
}

/// <summary>The naive AdamW update, one element at a time in the textbook order, to check <see cref="AdamWKernels"/> against.</summary>
public static class AdamWReference
{
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> expAvg, Span<float> expAvgSq, in AdamWCoefficients c)
    {
        AdamWKernels.CheckLengths(param.Length, grad.Length, expAvg.Length, expAvgSq.Length);
        for (int i = 0; i < param.Length; i++)
        {
            float decayed = param[i] * c.Decay;
            float m = expAvg[i] * c.Beta1;
            m = m + c.OneMinusBeta1 * grad[i];
            float v = expAvgSq[i] * c.Beta2;
            v = v + c.OneMinusBeta2 * grad[i] * grad[i];
            float denom = MathF.Sqrt(v) / c.BiasCorrection2Sqrt + c.Eps;
            param[i] = decayed + c.NegativeStepSize * m / denom;
            expAvg[i] = m;
            expAvgSq[i] = v;
        }
    }
}
