using System.Runtime.CompilerServices;
using Sharpformers.Kernels;

namespace Sharpformers.Nn.Inference;

/// <summary>
/// The sequences of one inference pass laid out as rows of a (tokens, C) matrix: sequence b is rows
/// [Starts[b], Starts[b + 1]). A padded (B, T) batch has Starts = 0, T, 2T, … and an additive key mask;
/// a padding-free ("varlen") batch packs only the real tokens back to back and needs no mask.
/// </summary>
public readonly record struct InferenceBatch(int[] Starts, ReadOnlyMemory<float> AdditiveMask)
{
    public int Sequences => Starts.Length - 1;

    public int Tokens => Starts[^1];

    /// <summary>The padded layout of (batch, seq): every sequence seq rows long.</summary>
    public static InferenceBatch Padded(int batch, int seq, ReadOnlyMemory<float> additiveMask)
    {
        var starts = new int[batch + 1];
        for (int b = 0; b <= batch; b++) starts[b] = b * seq;
        return new InferenceBatch(starts, additiveMask);
    }
}

/// <summary>
/// Scratch of an encoder's inference pass, sized for a number of tokens: one wide buffer that holds
/// the fused Q/K/V projection and later the FFN's intermediate activations (never needed at once),
/// and the attention context. The hidden state itself is updated in place.
/// </summary>
public sealed class EncoderInferenceBuffers(ActivationArena arena, int tokens, int hidden, int intermediate)
{
    public Memory<float> Wide { get; } = arena.Take(checked(tokens * Math.Max(3 * hidden, intermediate)));   // (N, max(3C, I))

    public Memory<float> Context { get; } = arena.Take(checked(tokens * hidden));                            // (N, C)
}

/// <summary>
/// The inference form of a <see cref="PostNormEncoderLayer"/>: its four products pre-packed (query,
/// key and value stacked into one), attention fused per (sequence, head), GELU applied in the first FFN
/// product's epilogue, both residual sums accumulated by the output products onto the hidden state
/// (beta = 1) and both LayerNorms run in place:
/// <code>
/// qkv = x·[Wq; Wk; Wv]ᵀ + b          (N, 3C)
/// x  += attention(qkv)·Woᵀ + bo      then x = LN₁(x)
/// f   = act(x·W₁ᵀ + b₁)              (N, I)
/// x  += f·W₂ᵀ + b₂                    then x = LN₂(x)
/// </code>
/// On a padded batch this is the same arithmetic, in the same order, as <see cref="PostNormEncoderLayer.Forward"/>
/// (the products, the softmax and the residual additions round identically), so the parity goldens hold.
/// One instance per layer, found with <see cref="For"/>; the packed weights are shared by concurrent passes.
/// </summary>
public sealed class InferenceEncoderLayer
{
    private static readonly ConditionalWeakTable<PostNormEncoderLayer, InferenceEncoderLayer> Instances = new();

    [ThreadStatic]
    private static LayerNormJob? cachedNormJob;

    private InferenceEncoderLayer(PostNormEncoderLayer layer)
    {
        Layer = layer;
        QueryKeyValue = new InferenceLinear(layer.Query, layer.Key, layer.Value);
        AttentionOutput = new InferenceLinear(layer.AttentionOutput);
        Intermediate = new InferenceLinear(layer.Intermediate);
        Output = new InferenceLinear(layer.Output);
        Activation = ToEpilogue(layer.Activation);
    }

    public PostNormEncoderLayer Layer { get; }

    public InferenceLinear QueryKeyValue { get; }

    public InferenceLinear AttentionOutput { get; }

    public InferenceLinear Intermediate { get; }

    public InferenceLinear Output { get; }

    public EpilogueActivation Activation { get; }

    /// <summary>Bytes of packed weights this layer holds now.</summary>
    public long PackedBytes => QueryKeyValue.PackedBytes + AttentionOutput.PackedBytes + Intermediate.PackedBytes + Output.PackedBytes;

    /// <summary>The inference form of <paramref name="layer"/> (created once, kept as long as the layer lives).</summary>
    public static InferenceEncoderLayer For(PostNormEncoderLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return Instances.GetValue(layer, static l => new InferenceEncoderLayer(l));
    }

    public static EpilogueActivation ToEpilogue(ActivationFunction function) => function switch
    {
        ActivationFunction.Gelu => EpilogueActivation.Gelu,
        ActivationFunction.GeluTanh => EpilogueActivation.GeluTanh,
        ActivationFunction.QuickGelu => EpilogueActivation.QuickGelu,
        ActivationFunction.Relu => EpilogueActivation.Relu,
        ActivationFunction.Silu => EpilogueActivation.Silu,
        ActivationFunction.Tanh => EpilogueActivation.Tanh,
        ActivationFunction.Sigmoid => EpilogueActivation.Sigmoid,
        ActivationFunction.Linear => EpilogueActivation.None,
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown activation."),
    };

    /// <summary>
    /// Runs the layer on <paramref name="hidden"/> (tokens, C) in place.
    /// </summary>
    /// <param name="precision">float32 or int8 products.</param>
    /// <param name="batch">Where each sequence's rows are, and the additive mask of a padded batch.</param>
    /// <param name="hidden">(N, C): the layer's input, overwritten with its output.</param>
    /// <param name="buffers">Scratch sized for at least N tokens.</param>
    /// <param name="probabilities">Empty, or (B, H, T, T) for the attention weights of a padded batch.</param>
    public void Forward(InferencePrecision precision, InferenceBatch batch, Memory<float> hidden, EncoderInferenceBuffers buffers, Memory<float> probabilities)
    {
        int c = Layer.HiddenSize;
        int heads = Layer.NumHeads;
        int d = Layer.HeadDim;
        int inter = Layer.IntermediateSize;
        int n = batch.Tokens;
        if (hidden.Length != n * c) throw new ArgumentException($"hidden has {hidden.Length} values, expected tokens × C = {n} × {c}.", nameof(hidden));
        if (n == 0) return;
        var x = hidden.Span;
        var wide = buffers.Wide.Span;
        var context = buffers.Context.Span[..(n * c)];

        var qkv = wide[..(n * 3 * c)];                                                              // (N, 3C)
        QueryKeyValue.Forward(precision, x, n, qkv, 3 * c, 0f, EpilogueActivation.None);
        FusedAttention.Forward(qkv, qkv[c..], qkv[(2 * c)..], 3 * c, batch.Starts, heads, d, 1f / MathF.Sqrt(d),
            batch.AdditiveMask.Span, context, c, probabilities.Span);                             // (N, C)
        AttentionOutput.Forward(precision, context, n, x, c, 1f, EpilogueActivation.None);           // x += ctx·Woᵀ + bo
        LayerNormInPlace(Layer.AttentionNorm, hidden);

        var intermediate = wide[..(n * inter)];                                                     // (N, I)
        Intermediate.Forward(precision, x, n, intermediate, inter, 0f, Activation);
        Output.Forward(precision, intermediate, n, x, c, 1f, EpilogueActivation.None);               // x += f·W₂ᵀ + b₂
        LayerNormInPlace(Layer.OutputNorm, hidden);
    }

    /// <summary>x = LayerNorm(x) row by row, split across threads for large buffers, without allocating.</summary>
    public static void LayerNormInPlace(LayerNorm norm, Memory<float> x)
    {
        int cols = norm.Features;
        int rows = x.Length / cols;
        long total = (long)rows * cols;
        int chunks = (int)Math.Min(Math.Min(KernelParallel.MaxThreads * 4L, rows), Math.Max(1, total / RowParallel.MinElementsPerChunk));
        var job = cachedNormJob ?? new LayerNormJob();
        cachedNormJob = null;
        try
        {
            job.Norm = norm;
            job.X = x;
            job.Rows = rows;
            job.Chunks = Math.Max(1, chunks);
            if (job.Chunks == 1) job.Invoke(0);
            else KernelParallel.For(job.Chunks, job);
        }
        finally
        {
            job.Norm = null;
            job.X = default;
            cachedNormJob = job;
        }
    }

    private sealed class LayerNormJob : IParallelBody
    {
        public LayerNorm? Norm;
        public Memory<float> X;
        public int Rows;
        public int Chunks;

        public void Invoke(int index)
        {
            int cols = Norm!.Features;
            int r0 = (int)((long)Rows * index / Chunks);
            int r1 = (int)((long)Rows * (index + 1) / Chunks);
            if (r1 <= r0) return;
            var rows = X.Span.Slice(r0 * cols, (r1 - r0) * cols);
            Normalization.LayerNorm(rows, Norm.Weight.Value.Span, Norm.Bias.Value.Span, Norm.Eps, rows, Span<float>.Empty, Span<float>.Empty);
        }
    }
}
