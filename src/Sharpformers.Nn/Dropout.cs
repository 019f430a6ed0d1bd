using Sharpformers.Kernels;
using Sharpformers.Utils;

namespace Sharpformers.Nn;

/// <summary>
/// torch.nn.Dropout for training: each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p). A forward draws one 64-bit seed from the caller's generator and expands it
/// into the mask with <see cref="DropoutMask"/>'s counter-based stream, so the mask is the same on any
/// number of threads and the generator's state (which the Trainer checkpoints) advances by one draw
/// per dropout site. The mask is kept (one byte per element) for backward. Inference has no dropout.
/// </summary>
public sealed class Dropout
{
    public Dropout(double probability)
    {
        if (!(probability >= 0 && probability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability must be in [0, 1].");
        }
        Probability = (float)probability;
    }

    public float Probability { get; }

    /// <summary>Whether training-mode forward changes anything (p &gt; 0).</summary>
    public bool IsActive => Probability > 0f;

    /// <summary>1/(1 − p), the survivors' scale (0 when everything is dropped).</summary>
    public float Scale => Probability >= 1f ? 0f : 1f / (1f - Probability);

    /// <summary>y = x ∘ keep / (1 − p) with a fresh mask written to <paramref name="keep"/>; y may be x.</summary>
    public void Forward(ReadOnlyMemory<float> x, Memory<byte> keep, Memory<float> y, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (keep.Length != x.Length || y.Length != x.Length)
        {
            throw new ArgumentException($"Dropout: x has {x.Length} elements, the mask {keep.Length} and y {y.Length}.");
        }
        ulong seed = NextSeed(random);
        RowParallel.For(x.Length, 1, (start, count) =>
            ForwardSlice(x.Span.Slice(start, count), keep.Span.Slice(start, count), y.Span.Slice(start, count), seed, start));
    }

    /// <summary>The seed of one dropout site: one draw from the trainer's generator.</summary>
    public ulong NextSeed(SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.NextUInt64();
    }

    /// <summary>
    /// Elements [offset, offset + x.Length) of a site seeded with <paramref name="seed"/>, on the calling
    /// thread: the same mask as <see cref="Forward"/> draws for that slice (for callers that already
    /// split the work, e.g. attention by sequence). y may be x.
    /// </summary>
    public void ForwardSlice(ReadOnlySpan<float> x, Span<byte> keep, Span<float> y, ulong seed, long offset)
    {
        if (Probability >= 1f) keep.Clear();
        else DropoutMask.Draw(seed, offset, Probability, keep);
        DropoutMask.Apply(x, keep, Scale, y);
    }

    /// <summary>dx = dy ∘ keep / (1 − p) with the forward's mask; dx may be dy.</summary>
    public void Backward(ReadOnlyMemory<float> dy, ReadOnlyMemory<byte> keep, Memory<float> dx)
    {
        if (keep.Length != dy.Length || dx.Length != dy.Length)
        {
            throw new ArgumentException($"Dropout backward: dy has {dy.Length} elements, the mask {keep.Length} and dx {dx.Length}.");
        }
        float scale = Scale;
        RowParallel.For(dy.Length, 1, (start, count) =>
            DropoutMask.Apply(dy.Span.Slice(start, count), keep.Span.Slice(start, count), scale, dx.Span.Slice(start, count)));
    }
}
