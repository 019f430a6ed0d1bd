using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>
/// torch.nn.Linear: y = x·Wᵀ + b with W stored (out, in), as checkpoints store it.
/// HF initialises W ~ N(0, initializer_range²) and b = 0.
/// </summary>
public sealed class Linear
{
    public Linear(ParameterBuilder builder, int inFeatures, int outFeatures, double initStd, bool bias = true)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = builder.Get("weight", [outFeatures, inFeatures], ParameterInit.Normal(initStd));
        Bias = bias ? builder.Get("bias", [outFeatures], ParameterInit.Zeros) : null;
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Parameter Weight { get; } // (out, in)

    public Parameter? Bias { get; }  // (out)

    /// <summary>y (N, out) = x (N, in) · Wᵀ + b, for N = x.Length / in rows.</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int rows = x.Length / Math.Max(1, InFeatures);
        if ((long)rows * InFeatures != x.Length)
        {
            throw new ArgumentException($"Linear({InFeatures} → {OutFeatures}): input length {x.Length} is not a whole number of rows of {InFeatures}.", nameof(x));
        }
        if ((long)rows * OutFeatures != y.Length)
        {
            throw new ArgumentException($"Linear({InFeatures} → {OutFeatures}): output length {y.Length}, expected {rows} × {OutFeatures}.", nameof(y));
        }
        if (rows == 0) return;
        // torch's addmm: C is filled with the bias and the product accumulated onto it (beta = 1).
        float beta = 0f;
        if (Bias is not null)
        {
            Elementwise.BroadcastRow(Bias.Value.Span, y);
            beta = 1f;
        }
        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, OutFeatures, InFeatures, 1f,
            x, InFeatures, Weight.Value.Span, InFeatures, beta, y, OutFeatures);
    }
}
