using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Backward of the element-wise activations: dx = dy · f′(x), from the activation's input x (the
/// forward keeps it). Destination last; dx may be dy or x (in place). Naive double-precision twin:
/// <see cref="ActivationsBackwardReference"/>.
/// </summary>
public static class ActivationsBackward
{
    /// <summary>GELU (exact erf): f′(x) = Φ(x) + x·φ(x).</summary>
    public static void Gelu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<GeluGrad>(x, dy, dx);

    /// <summary>GELU's tanh approximation, differentiated in the form the forward computes, x·σ(2u) with u = √(2/π)(x + 0.044715x³).</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<GeluTanhGrad>(x, dy, dx);

    /// <summary>ReLU: dy where x &gt; 0, else 0 (torch's threshold_backward).</summary>
    public static void Relu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<ReluGrad>(x, dy, dx);

    /// <summary>tanh from its input: f′(x) = 1 − tanh²(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<TanhGrad>(x, dy, dx);

    /// <summary>tanh from its output y = tanh(x) (what a pooler keeps): dx = dy·(1 − y²).</summary>
    public static void TanhFromOutput(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<TanhFromOutputGrad>(y, dy, dx);

    /// <summary>Sigmoid: f′(x) = σ(x)(1 − σ(x)).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<SigmoidGrad>(x, dy, dx);

    /// <summary>SiLU: f′(x) = σ(x)(1 + x(1 − σ(x))).</summary>
    public static void Silu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<SiluGrad>(x, dy, dx);

    /// <summary>quick_gelu x·σ(1.702x): f′(x) = s + 1.702·x·s(1 − s), s = σ(1.702x).</summary>
    public static void QuickGelu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => BinaryKernel.Map<QuickGeluGrad>(x, dy, dx);

    private const float FracOneSqrt2 = 0.707106781f;
    private const float InvSqrtTwoPi = 0.398942280f;   // 1/√(2π)
    private const float SqrtTwoOverPi = 0.797884561f;
    private const float GeluTanhCubic = 0.044715f;
    private const float QuickGeluSlope = 1.702f;

    private readonly struct GeluGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy)
        {
            float cdf = 0.5f + 0.5f * SimdMath.Erf(x * FracOneSqrt2);
            float pdf = SimdMath.Exp(-0.5f * x * x) * InvSqrtTwoPi;
            return dy * MathF.FusedMultiplyAdd(x, pdf, cdf);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var half = Vector256.Create(0.5f);
            var cdf = Vector256.FusedMultiplyAdd(half, SimdMath.Erf(x * Vector256.Create(FracOneSqrt2)), half);
            var pdf = SimdMath.Exp(-half * x * x) * Vector256.Create(InvSqrtTwoPi);
            return dy * Vector256.FusedMultiplyAdd(x, pdf, cdf);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var half = Vector512.Create(0.5f);
            var cdf = Vector512.FusedMultiplyAdd(half, SimdMath.Erf(x * Vector512.Create(FracOneSqrt2)), half);
            var pdf = SimdMath.Exp(-half * x * x) * Vector512.Create(InvSqrtTwoPi);
            return dy * Vector512.FusedMultiplyAdd(x, pdf, cdf);
        }
    }

    private readonly struct GeluTanhGrad : IBinaryOperator
    {
        // y = x·s with s = σ(2u): y′ = s + x·s(1 − s)·2u′, 2u′ = 2√(2/π)(1 + 3·0.044715x²).
        public static float Invoke(float x, float dy)
        {
            float x2 = x * x;
            float twoU = MathF.FusedMultiplyAdd(GeluTanhCubic * x, x2, x) * (2f * SqrtTwoOverPi);
            float s = SimdMath.Sigmoid(twoU);
            float twoDu = MathF.FusedMultiplyAdd(3f * GeluTanhCubic, x2, 1f) * (2f * SqrtTwoOverPi);
            return dy * MathF.FusedMultiplyAdd(x * s * (1f - s), twoDu, s);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var x2 = x * x;
            var k = Vector256.Create(2f * SqrtTwoOverPi);
            var one = Vector256.Create(1f);
            var twoU = Vector256.FusedMultiplyAdd(Vector256.Create(GeluTanhCubic) * x, x2, x) * k;
            var s = SimdMath.Sigmoid(twoU);
            var twoDu = Vector256.FusedMultiplyAdd(Vector256.Create(3f * GeluTanhCubic), x2, one) * k;
            return dy * Vector256.FusedMultiplyAdd(x * s * (one - s), twoDu, s);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var x2 = x * x;
            var k = Vector512.Create(2f * SqrtTwoOverPi);
            var one = Vector512.Create(1f);
            var twoU = Vector512.FusedMultiplyAdd(Vector512.Create(GeluTanhCubic) * x, x2, x) * k;
            var s = SimdMath.Sigmoid(twoU);
            var twoDu = Vector512.FusedMultiplyAdd(Vector512.Create(3f * GeluTanhCubic), x2, one) * k;
            return dy * Vector512.FusedMultiplyAdd(x * s * (one - s), twoDu, s);
        }
    }

    private readonly struct ReluGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy) => x > 0f ? dy : 0f;
        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero);
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, Vector512<float>.Zero);
    }

    private readonly struct TanhGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy)
        {
            float t = SimdMath.Tanh(x);
            return dy * (1f - t * t);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var t = SimdMath.Tanh(x);
            return dy * (Vector256.Create(1f) - t * t);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var t = SimdMath.Tanh(x);
            return dy * (Vector512.Create(1f) - t * t);
        }
    }

    private readonly struct TanhFromOutputGrad : IBinaryOperator
    {
        public static float Invoke(float y, float dy) => dy * (1f - y * y);
        public static Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256.Create(1f) - y * y);
        public static Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512.Create(1f) - y * y);
    }

    private readonly struct SigmoidGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy)
        {
            float s = SimdMath.Sigmoid(x);
            return dy * s * (1f - s);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var s = SimdMath.Sigmoid(x);
            return dy * s * (Vector256.Create(1f) - s);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var s = SimdMath.Sigmoid(x);
            return dy * s * (Vector512.Create(1f) - s);
        }
    }

    private readonly struct SiluGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy)
        {
            float s = SimdMath.Sigmoid(x);
            return dy * s * MathF.FusedMultiplyAdd(x, 1f - s, 1f);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var s = SimdMath.Sigmoid(x);
            var one = Vector256.Create(1f);
            return dy * s * Vector256.FusedMultiplyAdd(x, one - s, one);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var s = SimdMath.Sigmoid(x);
            var one = Vector512.Create(1f);
            return dy * s * Vector512.FusedMultiplyAdd(x, one - s, one);
        }
    }

    private readonly struct QuickGeluGrad : IBinaryOperator
    {
        public static float Invoke(float x, float dy)
        {
            float s = SimdMath.Sigmoid(QuickGeluSlope * x);
            return dy * MathF.FusedMultiplyAdd(QuickGeluSlope * x, s * (1f - s), s);
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var s = SimdMath.Sigmoid(Vector256.Create(QuickGeluSlope) * x);
            return dy * Vector256.FusedMultiplyAdd(Vector256.Create(QuickGeluSlope) * x, s * (Vector256.Create(1f) - s), s);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var s = SimdMath.Sigmoid(Vector512.Create(QuickGeluSlope) * x);
            return dy * Vector512.FusedMultiplyAdd(Vector512.Create(QuickGeluSlope) * x, s * (Vector512.Create(1f) - s), s);
        }
    }
}

/// <summary>The naive, double-precision activation derivatives that <see cref="ActivationsBackward"/> is tested against.</summary>
public static class ActivationsBackwardReference
{
    private static readonly double SqrtTwoOverPi = Math.Sqrt(2 / Math.PI);

    public static void Gelu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        Map(x, dy, dx, v => 0.5 * ActivationsReference.Erfc(-v / Math.Sqrt(2)) + v * Math.Exp(-v * v / 2) / Math.Sqrt(2 * Math.PI));

    public static void GeluTanh(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v =>
    {
        double u = SqrtTwoOverPi * (v + 0.044715 * v * v * v);
        double t = Math.Tanh(u);
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SqrtTwoOverPi * (1 + 3 * 0.044715 * v * v);
    });

    public static void Relu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v => v > 0 ? 1 : 0);

    public static void Tanh(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v => 1 - Math.Tanh(v) * Math.Tanh(v));

    public static void TanhFromOutput(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Map(y, dy, dx, v => 1 - v * v);

    public static void Sigmoid(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v =>
    {
        double s = 1 / (1 + Math.Exp(-v));
        return s * (1 - s);
    });

    public static void Silu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v =>
    {
        double s = 1 / (1 + Math.Exp(-v));
        return s * (1 + v * (1 - s));
    });

    public static void QuickGelu(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(x, dy, dx, v =>
    {
        double s = 1 / (1 + Math.Exp(-1.702 * v));
        return s + 1.702 * v * s * (1 - s);
    });

    private static void Map(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Func<double, double> derivative)
    {
        Checks.SameLengthOrAlias(x, dx, nameof(x), nameof(dx));
        Checks.SameLengthOrAlias(dy, dx, nameof(dy), nameof(dx));
        for (int i = 0; i < x.Length; i++) dx[i] = (float)(dy[i] * derivative(x[i]));
    }
}
