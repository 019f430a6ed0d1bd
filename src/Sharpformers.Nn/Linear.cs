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

    /// <summary>
    /// A linear layer over parameters that already exist: weight tying, as a masked-LM decoder over
    /// the word embeddings (V, C). Backward adds into the shared gradient buffer, so a tied weight
    /// receives the sum of both uses' gradients, as in torch.
    /// </summary>
    public Linear(Parameter weight, Parameter? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Shape.Count != 2) throw new ArgumentException($"A linear weight is (out, in); '{weight.Name}' has shape [{string.Join(", ", weight.Shape)}].", nameof(weight));
        if (bias is not null && (bias.Shape.Count != 1 || bias.Shape[0] != weight.Shape[0]))
        {
            throw new ArgumentException($"Bias '{bias.Name}' of shape [{string.Join(", ", bias.Shape)}] does not match weight '{weight.Name}' [{string.Join(", ", weight.Shape)}].", nameof(bias));
        }
        OutFeatures = weight.Shape[0];
        InFeatures = weight.Shape[1];
        Weight = weight;
        Bias = bias;
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Parameter Weight { get; } // (out, in)

    public Parameter? Bias { get; }  // (out)

    /// <summary>y (N, out) = x (N, in) · Wᵀ + b, for N = x.Length / in rows.</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int rows = RowsOf(x.Length, y.Length);
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

    /// <summary>
    /// Backward of <see cref="Forward"/> for the N rows of <paramref name="x"/>: W.Grad += dyᵀ·x and
    /// b.Grad += Σ_rows dy (when the parameters have gradient buffers), and dx = dy·W — written, or
    /// added to what dx holds with <paramref name="accumulateInputGradient"/> (a tensor feeding several
    /// layers, e.g. the Q/K/V input); an empty dx skips the input gradient.
    /// </summary>
    /// <param name="x">(N, in) the forward input.</param>
    /// <param name="dy">(N, out) the gradient of the output.</param>
    /// <param name="dx">(N, in) or empty.</param>
    public void Backward(ReadOnlyMemory<float> x, ReadOnlyMemory<float> dy, Memory<float> dx, bool accumulateInputGradient = false)
    {
        int rows = RowsOf(x.Length, dy.Length);
        if (!dx.IsEmpty && dx.Length != x.Length)
        {
            throw new ArgumentException($"Linear({InFeatures} → {OutFeatures}) backward: dx has {dx.Length} elements, expected {rows} × {InFeatures}.", nameof(dx));
        }
        if (rows == 0) return;
        if (Weight.Grad is { } weightGrad)
        {
            // dW (out, in) += dyᵀ (out, N) · x (N, in)
            Gemm.Sgemm(Transpose.Yes, Transpose.No, OutFeatures, InFeatures, rows, 1f,
                dy.Span, OutFeatures, x.Span, InFeatures, 1f, weightGrad.Span, InFeatures);
        }
        if (Bias?.Grad is { } biasGrad)
        {
            var db = biasGrad.Memory;
            int outFeatures = OutFeatures;
            ColumnParallel.For(outFeatures, rows, (start, count) =>
                ColumnReductions.AddColumnSums(dy.Span[start..], rows, outFeatures, db.Span.Slice(start, count)));
        }
        if (!dx.IsEmpty)
        {
            // dx (N, in) (+)= dy (N, out) · W (out, in)
            Gemm.Sgemm(Transpose.No, Transpose.No, rows, InFeatures, OutFeatures, 1f,
                dy.Span, OutFeatures, Weight.Value.Span, InFeatures, accumulateInputGradient ? 1f : 0f, dx.Span, InFeatures);
        }
    }

    private int RowsOf(int inputLength, int outputLength)
    {
        int rows = inputLength / Math.Max(1, InFeatures);
        if ((long)rows * InFeatures != inputLength)
        {
            throw new ArgumentException($"Linear({InFeatures} → {OutFeatures}): input length {inputLength} is not a whole number of rows of {InFeatures}.");
        }
        if ((long)rows * OutFeatures != outputLength)
        {
            throw new ArgumentException($"Linear({InFeatures} → {OutFeatures}): output length {outputLength}, expected {rows} × {OutFeatures}.");
        }
        return rows;
    }
}
