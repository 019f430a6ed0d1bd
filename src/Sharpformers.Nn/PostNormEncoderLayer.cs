namespace Sharpformers.Nn;

/// <summary>
/// The post-LayerNorm transformer encoder block of BERT, DistilBERT, RoBERTa, ELECTRA and XLM-R:
/// <code>
/// h = LN₁(x + Wₒ·Attention(x))
/// y = LN₂(h + W₂·act(W₁·h))
/// </code>
/// Architectures build the sub-layers under their own checkpoint names and hand them in; the math
/// lives here once. Activations go to <see cref="EncoderLayerActivations"/> so a backward pass can be
/// written beside <see cref="Forward"/> (issue 4) from what it kept.
/// </summary>
public sealed class PostNormEncoderLayer(
    Linear query, Linear key, Linear value, Linear attentionOutput, LayerNorm attentionNorm,
    Linear intermediate, ActivationFunction activation, Linear output, LayerNorm outputNorm, int numHeads)
{
    public Linear Query { get; } = query;
    public Linear Key { get; } = key;
    public Linear Value { get; } = value;
    public Linear AttentionOutput { get; } = attentionOutput;
    public LayerNorm AttentionNorm { get; } = attentionNorm;
    public Linear Intermediate { get; } = intermediate;
    public ActivationFunction Activation { get; } = activation;
    public Linear Output { get; } = output;
    public LayerNorm OutputNorm { get; } = outputNorm;
    public int NumHeads { get; } = numHeads;

    public int HiddenSize => Query.InFeatures;

    public int HeadDim => HiddenSize / NumHeads;

    public int IntermediateSize => Intermediate.OutFeatures;

    /// <summary>Runs the block on a.Input (B, T, C) into a.Output (B, T, C).</summary>
    /// <param name="a">Buffers for this layer, sized for (B, T).</param>
    /// <param name="additiveMask">(B, T) additive attention mask, or empty.</param>
    public void Forward(EncoderLayerActivations a, ReadOnlyMemory<float> additiveMask)
    {
        int btc = a.Batch * a.Seq * a.Hidden;
        if (a.Input.Length != btc || a.Output.Length != btc)
        {
            throw new ArgumentException($"Encoder layer buffers: input has {a.Input.Length} and output {a.Output.Length} elements, expected {btc} (B·T·C).", nameof(a));
        }
        Query.Forward(a.Input.Span, a.Query.Span);                 // (B, T, C)
        Key.Forward(a.Input.Span, a.Key.Span);                     // (B, T, C)
        Value.Forward(a.Input.Span, a.Value.Span);                 // (B, T, C)
        MultiHeadAttention.Forward(a.Query, a.Key, a.Value, a.Batch, a.Seq, NumHeads, HeadDim,
            1f / MathF.Sqrt(HeadDim), additiveMask, a.AttentionProbs, a.Context);   // (B, H, T, T), (B, T, C)
        AttentionOutput.Forward(a.Context.Span, a.AttentionResidual.Span);          // (B, T, C)
        AddInPlace(a.AttentionResidual, a.Input);                                   // + x
        AttentionNorm.Forward(a.AttentionResidual, a.AttentionNormOut, a.AttentionNormMean, a.AttentionNormRstd);

        Intermediate.Forward(a.AttentionNormOut.Span, a.IntermediatePre.Span);      // (B, T, I)
        Activation.Apply(a.IntermediatePre, a.IntermediateAct);                     // (B, T, I)
        Output.Forward(a.IntermediateAct.Span, a.OutputResidual.Span);              // (B, T, C)
        AddInPlace(a.OutputResidual, a.AttentionNormOut);                           // + h
        OutputNorm.Forward(a.OutputResidual, a.Output, a.OutputNormMean, a.OutputNormRstd);
    }

    private static void AddInPlace(Memory<float> y, ReadOnlyMemory<float> x) =>
        RowParallel.For(y.Length, 1, (start, count) =>
            Kernels.Elementwise.Add(y.Span.Slice(start, count), x.Span.Slice(start, count), y.Span.Slice(start, count)));
}

/// <summary>
/// The buffers one encoder layer reads and writes, with their shapes. For inference one set is reused
/// by every layer and buffers that only backward needs alias each other (in-place LayerNorm and
/// activation); for training each layer keeps its own, all distinct (llm.c's ActivationTensors).
/// </summary>
public sealed class EncoderLayerActivations
{
    public int Batch { get; }
    public int Seq { get; }
    public int Hidden { get; }
    public int Heads { get; }
    public int IntermediateSize { get; }

    /// <summary>Whether every intermediate is kept in its own buffer (what backward needs).</summary>
    public bool KeptForBackward { get; }

    public Memory<float> Input { get; set; }              // (B, T, C), the previous layer's output
    public Memory<float> Query { get; }                   // (B, T, C)
    public Memory<float> Key { get; }                     // (B, T, C)
    public Memory<float> Value { get; }                   // (B, T, C)
    public Memory<float> AttentionProbs { get; }          // (B, H, T, T)
    public Memory<float> Context { get; }                 // (B, T, C), heads merged
    public Memory<float> AttentionResidual { get; }       // (B, T, C), x + Wₒ·context (LN₁ input)
    public Memory<float> AttentionNormOut { get; }        // (B, T, C), h
    public Memory<float> AttentionNormMean { get; }       // (B, T), empty when not kept
    public Memory<float> AttentionNormRstd { get; }       // (B, T), empty when not kept
    public Memory<float> IntermediatePre { get; }         // (B, T, I), W₁·h + b₁
    public Memory<float> IntermediateAct { get; }         // (B, T, I), act(...)
    /// <summary>(B, T, C), h + W₂·act (LN₂'s input); the output buffer itself during inference.</summary>
    public Memory<float> OutputResidual => KeptForBackward ? outputResidual : Output;

    /// <summary>
    /// (B, T, C), y. Kept per layer for training; during inference the encoder points it at one of two
    /// hidden-state buffers it alternates between (it must not alias any buffer above).
    /// </summary>
    public Memory<float> Output { get; set; }

    public Memory<float> OutputNormMean { get; }          // (B, T), empty when not kept
    public Memory<float> OutputNormRstd { get; }          // (B, T), empty when not kept

    private readonly Memory<float> outputResidual;

    public EncoderLayerActivations(ActivationArena arena, int batch, int seq, int hidden, int heads, int intermediateSize, bool keepForBackward)
    {
        Batch = batch;
        Seq = seq;
        Hidden = hidden;
        Heads = heads;
        IntermediateSize = intermediateSize;
        KeptForBackward = keepForBackward;
        int btc = checked(batch * seq * hidden);
        int bti = checked(batch * seq * intermediateSize);
        Query = arena.Take(btc);
        Key = arena.Take(btc);
        Value = arena.Take(btc);
        AttentionProbs = arena.Take(checked(batch * heads * seq * seq));
        Context = arena.Take(btc);
        AttentionResidual = arena.Take(btc);
        IntermediatePre = arena.Take(bti);
        if (keepForBackward)
        {
            AttentionNormOut = arena.Take(btc);
            AttentionNormMean = arena.Take(batch * seq);
            AttentionNormRstd = arena.Take(batch * seq);
            IntermediateAct = arena.Take(bti);
            outputResidual = arena.Take(btc);
            Output = arena.Take(btc);
            OutputNormMean = arena.Take(batch * seq);
            OutputNormRstd = arena.Take(batch * seq);
        }
        else
        {
            // Inference: LayerNorm and the activation run in place, so the residual sums become their outputs.
            AttentionNormOut = AttentionResidual;
            IntermediateAct = IntermediatePre;
        }
    }
}
