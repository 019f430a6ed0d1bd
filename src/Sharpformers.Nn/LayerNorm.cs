using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>torch.nn.LayerNorm over the last dimension (weight 1, bias 0 when initialised).</summary>
public sealed class LayerNorm
{
    public LayerNorm(ParameterBuilder builder, int features, double eps)
    {
        Features = features;
        Eps = (float)eps;
        Weight = builder.Get("weight", [features], ParameterInit.Ones);
        Bias = builder.Get("bias", [features], ParameterInit.Zeros);
    }

    public int Features { get; }

    public float Eps { get; }

    public Parameter Weight { get; } // (C)

    public Parameter Bias { get; }   // (C)

    /// <summary>
    /// y (N, C) = LayerNorm(x (N, C)); mean and rstd (N) are stored when non-empty, for backward.
    /// Rows are split across threads. y may be x.
    /// </summary>
    public void Forward(ReadOnlyMemory<float> x, Memory<float> y, Memory<float> mean, Memory<float> rstd)
    {
        int c = Features;
        RowParallel.For(x.Length / c, c, (start, count) => Normalization.LayerNorm(
            x.Span.Slice(start * c, count * c), Weight.Value.Span, Bias.Value.Span, Eps,
            y.Span.Slice(start * c, count * c),
            mean.IsEmpty ? Span<float>.Empty : mean.Span.Slice(start, count),
            rstd.IsEmpty ? Span<float>.Empty : rstd.Span.Slice(start, count)));
    }
}
