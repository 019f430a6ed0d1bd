using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>torch.nn.LayerNorm over the last dimension (weight 1, bias 0 when initialised).</summary>
public sealed class LayerNorm
{
    /// <summary>Rows per partial sum of the parameter gradients: fixed, so results do not depend on the thread count.</summary>
    private const int RowsPerPartial = 32;

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

    /// <summary>
    /// Backward of <see cref="Forward"/> from its input x (N, C) and the saved mean and rstd (N):
    /// dx (N, C) is overwritten (it may be dy); the weight and bias gradients are accumulated. Rows
    /// run in parallel, each block of 32 rows summing its own parameter-gradient partials in
    /// <paramref name="scratch"/>, which are then added in block order.
    /// </summary>
    public void Backward(ReadOnlyMemory<float> x, ReadOnlyMemory<float> mean, ReadOnlyMemory<float> rstd,
        ReadOnlyMemory<float> dy, Memory<float> dx, ActivationArena scratch)
    {
        int c = Features;
        int rows = x.Length / c;
        if (rows == 0) return;
        int blocks = (rows + RowsPerPartial - 1) / RowsPerPartial;
        var partials = scratch.TakeZeroed(blocks * 2 * c);        // (blocks, 2, C): dWeight, dBias
        var weight = Weight.Value.Memory;
        RowParallel.For(blocks, RowsPerPartial * c, (firstBlock, blockCount) =>
        {
            for (int blk = firstBlock; blk < firstBlock + blockCount; blk++)
            {
                int start = blk * RowsPerPartial;
                int count = Math.Min(RowsPerPartial, rows - start);
                var p = partials.Span.Slice(blk * 2 * c, 2 * c);
                NormalizationBackward.LayerNorm(
                    x.Span.Slice(start * c, count * c), mean.Span.Slice(start, count), rstd.Span.Slice(start, count), weight.Span,
                    dy.Span.Slice(start * c, count * c), dx.Span.Slice(start * c, count * c), p[..c], p[c..]);
            }
        });
        if (Weight.Grad is { } weightGrad) ColumnReductions.AddColumnSums(partials.Span, blocks, 2 * c, weightGrad.Span);
        if (Bias.Grad is { } biasGrad) ColumnReductions.AddColumnSums(partials.Span[c..], blocks, 2 * c, biasGrad.Span);
    }
}
