using Sharpformers.Utils;

namespace Sharpformers.Nn;

/// <summary>
/// The dropout probabilities of one post-LN encoder block, by where HF applies them. BERT/RoBERTa/ELECTRA:
/// all three (attention_probs_dropout_prob on the weights, hidden_dropout_prob after both output
/// projections). DistilBERT: attention_dropout on the weights and dropout after the FFN only (its
/// attention output goes straight into the residual).
/// </summary>
public sealed record EncoderLayerDropout(double AttentionProbs, double AttentionOutput, double Output)
{
    public static EncoderLayerDropout None { get; } = new(0, 0, 0);
}

/// <summary>
/// The post-LayerNorm transformer encoder block of BERT, DistilBERT, RoBERTa, ELECTRA and XLM-R:
/// <code>
/// h = LN₁(x + dropout(Wₒ·Attention(x)))
/// y = LN₂(h + dropout(W₂·act(W₁·h)))
/// </code>
/// Architectures build the sub-layers under their own checkpoint names and hand them in; the math
/// lives here once, forward and backward side by side (llm.c style). Activations go to
/// <see cref="EncoderLayerActivations"/>; a training-mode forward keeps every one of them (and the
/// dropout masks) for <see cref="Backward"/>.
/// </summary>
public sealed class PostNormEncoderLayer(
    Linear query, Linear key, Linear value, Linear attentionOutput, LayerNorm attentionNorm,
    Linear intermediate, ActivationFunction activation, Linear output, LayerNorm outputNorm, int numHeads,
    EncoderLayerDropout? dropout = null)
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

    /// <summary>Dropout on the attention weights (training only).</summary>
    public Dropout AttentionProbsDropout { get; } = new((dropout ?? EncoderLayerDropout.None).AttentionProbs);

    /// <summary>Dropout after the attention output projection (training only).</summary>
    public Dropout AttentionOutputDropout { get; } = new((dropout ?? EncoderLayerDropout.None).AttentionOutput);

    /// <summary>Dropout after the FFN's output projection (training only).</summary>
    public Dropout OutputDropout { get; } = new((dropout ?? EncoderLayerDropout.None).Output);

    public int HiddenSize => Query.InFeatures;

    public int HeadDim => HiddenSize / NumHeads;

    public int IntermediateSize => Intermediate.OutFeatures;

    private float Scale => 1f / MathF.Sqrt(HeadDim);

    /// <summary>
    /// Runs the block on a.Input (B, T, C) into a.Output (B, T, C). With a generator and activations
    /// kept for backward this is the training forward: dropout masks are drawn (one draw from
    /// <paramref name="dropoutRandom"/> per active dropout, in a fixed order) and applied.
    /// </summary>
    /// <param name="a">Buffers for this layer, sized for (B, T).</param>
    /// <param name="additiveMask">(B, T) additive attention mask, or empty.</param>
    /// <param name="dropoutRandom">The trainer's generator; null for no dropout (inference, or training with dropout off).</param>
    public void Forward(EncoderLayerActivations a, ReadOnlyMemory<float> additiveMask, SeededRandom? dropoutRandom = null)
    {
        int btc = a.Batch * a.Seq * a.Hidden;
        if (a.Input.Length != btc || a.Output.Length != btc)
        {
            throw new ArgumentException($"Encoder layer buffers: input has {a.Input.Length} and output {a.Output.Length} elements, expected {btc} (B·T·C).", nameof(a));
        }
        var random = a.KeptForBackward ? dropoutRandom : null;
        if (random is not null && !a.HasDropoutBuffers && (AttentionProbsDropout.IsActive || AttentionOutputDropout.IsActive || OutputDropout.IsActive))
        {
            throw new ArgumentException("Training with dropout needs activations created with dropout buffers (withDropout: true).", nameof(a));
        }
        a.DropoutApplied = random is not null;
        Query.Forward(a.Input.Span, a.Query.Span);                 // (B, T, C)
        Key.Forward(a.Input.Span, a.Key.Span);                     // (B, T, C)
        Value.Forward(a.Input.Span, a.Value.Span);                 // (B, T, C)
        MultiHeadAttention.Forward(a.Query, a.Key, a.Value, a.Batch, a.Seq, NumHeads, HeadDim,
            Scale, additiveMask, a.AttentionProbs, a.Context,                      // (B, H, T, T), (B, T, C)
            AttentionProbsDropout, a.AttentionDropoutKeep, a.AttentionProbsDropped, random);
        AttentionOutput.Forward(a.Context.Span, a.AttentionResidual.Span);          // (B, T, C)
        if (random is not null && AttentionOutputDropout.IsActive)
        {
            AttentionOutputDropout.Forward(a.AttentionResidual, a.AttentionOutputDropoutKeep, a.AttentionResidual, random);
        }
        AddInPlace(a.AttentionResidual, a.Input);                                   // + x
        AttentionNorm.Forward(a.AttentionResidual, a.AttentionNormOut, a.AttentionNormMean, a.AttentionNormRstd);

        Intermediate.Forward(a.AttentionNormOut.Span, a.IntermediatePre.Span);      // (B, T, I)
        Activation.Apply(a.IntermediatePre, a.IntermediateAct);                     // (B, T, I)
        Output.Forward(a.IntermediateAct.Span, a.OutputResidual.Span);              // (B, T, C)
        if (random is not null && OutputDropout.IsActive)
        {
            OutputDropout.Forward(a.OutputResidual, a.OutputDropoutKeep, a.OutputResidual, random);
        }
        AddInPlace(a.OutputResidual, a.AttentionNormOut);                           // + h
        OutputNorm.Forward(a.OutputResidual, a.Output, a.OutputNormMean, a.OutputNormRstd);
    }

    /// <summary>
    /// Backward of a training forward that kept <paramref name="a"/>: adds every parameter's gradient
    /// into its buffer and writes the input gradient. <paramref name="dOutput"/> is only read.
    /// </summary>
    /// <param name="a">This layer's activations from the training forward.</param>
    /// <param name="g">Scratch shared by all layers of the pass.</param>
    /// <param name="dOutput">(B, T, C) the gradient of a.Output.</param>
    /// <param name="dInput">(B, T, C) the gradient of a.Input, overwritten.</param>
    public void Backward(EncoderLayerActivations a, EncoderLayerGradients g, ReadOnlyMemory<float> dOutput, Memory<float> dInput)
    {
        if (!a.KeptForBackward) throw new InvalidOperationException("Backward needs the activations of a training-mode forward (keepForBackward: true).");
        int btc = a.Batch * a.Seq * a.Hidden;
        int bti = a.Batch * a.Seq * a.IntermediateSize;
        if (dOutput.Length != btc || dInput.Length != btc)
        {
            throw new ArgumentException($"Encoder layer backward: dOutput has {dOutput.Length} and dInput {dInput.Length} elements, expected {btc} (B·T·C).");
        }
        g.EnsureFits(a);
        var dResidual = g.DResidual[..btc];        // (B, T, C)
        var dTemp = g.DTemp[..btc];                // (B, T, C)
        var dIntermediate = g.DIntermediate[..bti]; // (B, T, I)

        // y = LN₂(r₂), r₂ = h + dropout(o): dr₂, then do through the dropout.
        OutputNorm.Backward(a.OutputResidual, a.OutputNormMean, a.OutputNormRstd, dOutput, dResidual, g.Scratch);
        var dOut = dResidual;
        if (a.DropoutApplied && OutputDropout.IsActive)
        {
            OutputDropout.Backward(dResidual, a.OutputDropoutKeep, dTemp);
            dOut = dTemp;
        }
        // o = W₂·act + b₂, act = f(pre), pre = W₁·h + b₁; dh = dr₂ + W₁ᵀ-path, accumulated onto dr₂ in place.
        Output.Backward(a.IntermediateAct, dOut, dIntermediate);
        Activation.Backward(a.IntermediatePre, dIntermediate, dIntermediate);
        Intermediate.Backward(a.AttentionNormOut, dIntermediate, dResidual, accumulateInputGradient: true);

        // h = LN₁(r₁), r₁ = x + dropout(ao): dr₁ is also the residual part of dx, so it goes straight into dInput.
        AttentionNorm.Backward(a.AttentionResidual, a.AttentionNormMean, a.AttentionNormRstd, dResidual, dInput, g.Scratch);
        ReadOnlyMemory<float> dAttentionOut = dInput;
        if (a.DropoutApplied && AttentionOutputDropout.IsActive)
        {
            AttentionOutputDropout.Backward(dInput, a.AttentionOutputDropoutKeep, dTemp);
            dAttentionOut = dTemp;
        }
        var dContext = g.DContext[..btc];
        AttentionOutput.Backward(a.Context, dAttentionOut, dContext);

        var dQuery = g.DQuery[..btc];
        var dKey = g.DKey[..btc];
        var dValue = g.DValue[..btc];
        bool attentionDropped = a.DropoutApplied && AttentionProbsDropout.IsActive;
        MultiHeadAttention.Backward(a.Query, a.Key, a.Value, a.Batch, a.Seq, NumHeads, HeadDim, Scale,
            a.AttentionProbs, a.AttentionProbsDropped, attentionDropped ? AttentionProbsDropout : null,
            attentionDropped ? a.AttentionDropoutKeep : ReadOnlyMemory<byte>.Empty,
            dContext, g.DProbs[..(a.Batch * a.Heads * a.Seq * a.Seq)], dQuery, dKey, dValue);
        Query.Backward(a.Input, dQuery, dInput, accumulateInputGradient: true);
        Key.Backward(a.Input, dKey, dInput, accumulateInputGradient: true);
        Value.Backward(a.Input, dValue, dInput, accumulateInputGradient: true);
    }

    private static void AddInPlace(Memory<float> y, ReadOnlyMemory<float> x) =>
        RowParallel.For(y.Length, 1, (start, count) =>
            Kernels.Elementwise.Add(y.Span.Slice(start, count), x.Span.Slice(start, count), y.Span.Slice(start, count)));
}

/// <summary>
/// The buffers one encoder layer reads and writes, with their shapes. For inference one set is reused
/// by every layer and buffers that only backward needs alias each other (in-place LayerNorm and
/// activation); for training each layer keeps its own, all distinct (llm.c's ActivationTensors),
/// plus the dropout masks when dropout is on.
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

    /// <summary>Whether the dropout masks and the dropped attention weights have buffers.</summary>
    public bool HasDropoutBuffers { get; }

    /// <summary>Whether the last forward applied dropout (set by the layer; backward follows it).</summary>
    public bool DropoutApplied { get; internal set; }

    public Memory<float> Input { get; set; }              // (B, T, C), the previous layer's output
    public Memory<float> Query { get; }                   // (B, T, C)
    public Memory<float> Key { get; }                     // (B, T, C)
    public Memory<float> Value { get; }                   // (B, T, C)
    public Memory<float> AttentionProbs { get; }          // (B, H, T, T), softmax output
    public Memory<float> Context { get; }                 // (B, T, C), heads merged
    public Memory<float> AttentionResidual { get; }       // (B, T, C), x + dropout(Wₒ·context) (LN₁ input)
    public Memory<float> AttentionNormOut { get; }        // (B, T, C), h
    public Memory<float> AttentionNormMean { get; }       // (B, T), empty when not kept
    public Memory<float> AttentionNormRstd { get; }       // (B, T), empty when not kept
    public Memory<float> IntermediatePre { get; }         // (B, T, I), W₁·h + b₁
    public Memory<float> IntermediateAct { get; }         // (B, T, I), act(...)
    /// <summary>(B, T, C), h + dropout(W₂·act) (LN₂'s input); the output buffer itself during inference.</summary>
    public Memory<float> OutputResidual => KeptForBackward ? outputResidual : Output;

    /// <summary>
    /// (B, T, C), y. Kept per layer for training; during inference the encoder points it at one of two
    /// hidden-state buffers it alternates between (it must not alias any buffer above).
    /// </summary>
    public Memory<float> Output { get; set; }

    public Memory<float> OutputNormMean { get; }          // (B, T), empty when not kept
    public Memory<float> OutputNormRstd { get; }          // (B, T), empty when not kept

    public Memory<byte> AttentionDropoutKeep { get; }     // (B, H, T, T), empty without dropout buffers
    /// <summary>(B, H, T, T) the weights after dropout, what multiplied V; <see cref="AttentionProbs"/> itself when none was applied.</summary>
    public Memory<float> AttentionProbsDropped => DropoutApplied && !attentionProbsDropped.IsEmpty ? attentionProbsDropped : AttentionProbs;
    public Memory<byte> AttentionOutputDropoutKeep { get; } // (B, T, C), empty without dropout buffers
    public Memory<byte> OutputDropoutKeep { get; }        // (B, T, C), empty without dropout buffers

    private readonly Memory<float> outputResidual;
    private readonly Memory<float> attentionProbsDropped;

    /// <param name="withDropout">Also allocate dropout masks (training with dropout; only with <paramref name="keepForBackward"/>).</param>
    public EncoderLayerActivations(ActivationArena arena, int batch, int seq, int hidden, int heads, int intermediateSize, bool keepForBackward,
        bool withDropout = false)
    {
        Batch = batch;
        Seq = seq;
        Hidden = hidden;
        Heads = heads;
        IntermediateSize = intermediateSize;
        KeptForBackward = keepForBackward;
        int btc = checked(batch * seq * hidden);
        int bti = checked(batch * seq * intermediateSize);
        int bhtt = checked(batch * heads * seq * seq);
        Query = arena.Take(btc);
        Key = arena.Take(btc);
        Value = arena.Take(btc);
        AttentionProbs = arena.Take(bhtt);
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
            if (withDropout)
            {
                HasDropoutBuffers = true;
                AttentionDropoutKeep = arena.TakeBytes(bhtt);
                attentionProbsDropped = arena.Take(bhtt);
                AttentionOutputDropoutKeep = arena.TakeBytes(btc);
                OutputDropoutKeep = arena.TakeBytes(btc);
            }
        }
        else
        {
            // Inference: LayerNorm and the activation run in place, so the residual sums become their outputs.
            AttentionNormOut = AttentionResidual;
            IntermediateAct = IntermediatePre;
        }
    }
}

/// <summary>
/// Scratch for one encoder layer's backward, shared by every layer of a pass (layers are
/// differentiated one after another): llm.c's gradient activations, without per-layer copies.
/// Sized for the largest (B, T) it is used with.
/// </summary>
public sealed class EncoderLayerGradients
{
    public EncoderLayerGradients(ActivationArena arena, int batch, int seq, int hidden, int heads, int intermediateSize)
    {
        Batch = batch;
        Seq = seq;
        Hidden = hidden;
        Heads = heads;
        IntermediateSize = intermediateSize;
        int btc = checked(batch * seq * hidden);
        DResidual = arena.Take(btc);
        DTemp = arena.Take(btc);
        DIntermediate = arena.Take(checked(batch * seq * intermediateSize));
        DContext = arena.Take(btc);
        DQuery = arena.Take(btc);
        DKey = arena.Take(btc);
        DValue = arena.Take(btc);
        DProbs = arena.Take(checked(batch * heads * seq * seq));
        Scratch = arena;
    }

    public int Batch { get; }
    public int Seq { get; }
    public int Hidden { get; }
    public int Heads { get; }
    public int IntermediateSize { get; }

    public Memory<float> DResidual { get; }      // (B, T, C): dr₂, then dh
    public Memory<float> DTemp { get; }          // (B, T, C): a gradient through a dropout
    public Memory<float> DIntermediate { get; }  // (B, T, I): dact, then dpre
    public Memory<float> DContext { get; }       // (B, T, C)
    public Memory<float> DQuery { get; }         // (B, T, C)
    public Memory<float> DKey { get; }           // (B, T, C)
    public Memory<float> DValue { get; }         // (B, T, C)
    public Memory<float> DProbs { get; }         // (B, H, T, T): dP, then dS

    /// <summary>Where LayerNorm's parameter-gradient partials come from.</summary>
    public ActivationArena Scratch { get; }

    internal void EnsureFits(EncoderLayerActivations a)
    {
        if ((long)a.Batch * a.Seq > (long)Batch * Seq || (long)a.Batch * a.Seq * a.Seq > (long)Batch * Seq * Seq || a.Hidden != Hidden || a.Heads != Heads || a.IntermediateSize != IntermediateSize)
        {
            throw new ArgumentException(
                $"Gradient scratch for (B·T {Batch * Seq}, C {Hidden}, H {Heads}, I {IntermediateSize}) cannot hold a layer of (B·T {a.Batch * a.Seq}, C {a.Hidden}, H {a.Heads}, I {a.IntermediateSize}).");
        }
    }
}
