using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Element-wise activations, destination last; the destination may be the source (in place).
/// Each has a naive double-precision twin in <see cref="ActivationsReference"/>.
/// </summary>
public static class Activations
{
    /// <summary>GELU with the exact erf: x·Φ(x) = x/2·(1 + erf(x/√2)) (torch's default, HF "gelu").</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<GeluOp>(x, y);

    /// <summary>GELU's tanh approximation (HF "gelu_new", "gelu_pytorch_tanh"): x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<GeluTanhOp>(x, y);

    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<ReluOp>(x, y);

    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<TanhOp>(x, y);

    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<SigmoidOp>(x, y);

    /// <summary>SiLU / swish: x·sigmoid(x).</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<SiluOp>(x, y);

    /// <summary>HF "quick_gelu": x·sigmoid(1.702·x).</summary>
    public static void QuickGelu(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<QuickGeluOp>(x, y);

    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<ExpOp>(x, y);

    public static void Erf(ReadOnlySpan<float> x, Span<float> y) => UnaryKernel.Map<ErfOp>(x, y);

    internal readonly struct GeluOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.Gelu(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.Gelu(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.Gelu(x);
    }

    internal readonly struct GeluTanhOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.GeluTanh(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.GeluTanh(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.GeluTanh(x);
    }

    internal readonly struct ReluOp : IUnaryOperator
    {
        // x > 0 ? x : 0, written so NaN stays NaN as in torch.
        public static float Invoke(float x) => x > 0f || float.IsNaN(x) ? x : 0f;
        public static Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
        public static Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.Zero, x);
    }

    internal readonly struct TanhOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.Tanh(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.Tanh(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.Tanh(x);
    }

    internal readonly struct SigmoidOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.Sigmoid(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.Sigmoid(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.Sigmoid(x);
    }

    internal readonly struct SiluOp : IUnaryOperator
    {
        public static float Invoke(float x) => x * SimdMath.Sigmoid(x);
        public static Vector256<float> Invoke(Vector256<float> x) => x * SimdMath.Sigmoid(x);
        public static Vector512<float> Invoke(Vector512<float> x) => x * SimdMath.Sigmoid(x);
    }

    internal readonly struct QuickGeluOp : IUnaryOperator
    {
        private const float Slope = 1.702f;
        public static float Invoke(float x) => x * SimdMath.Sigmoid(Slope * x);
        public static Vector256<float> Invoke(Vector256<float> x) => x * SimdMath.Sigmoid(Vector256.Create(Slope) * x);
        public static Vector512<float> Invoke(Vector512<float> x) => x * SimdMath.Sigmoid(Vector512.Create(Slope) * x);
    }

    private readonly struct ExpOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.Exp(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.Exp(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.Exp(x);
    }

    private readonly struct ErfOp : IUnaryOperator
    {
        public static float Invoke(float x) => SimdMath.Erf(x);
        public static Vector256<float> Invoke(Vector256<float> x) => SimdMath.Erf(x);
        public static Vector512<float> Invoke(Vector512<float> x) => SimdMath.Erf(x);
    }
}
