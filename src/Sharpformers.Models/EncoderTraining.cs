using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>
/// What a training-mode forward of an encoder kept for backward: the inputs, the embeddings'
/// intermediates, every layer's <see cref="EncoderLayerActivations"/> and the last hidden state,
/// all in the model's training arena (valid until the next training forward). Heads (sequence
/// classification now, masked-LM later) build on <see cref="LastHidden"/> and hand its gradient
/// back to the encoder's backward.
/// </summary>
internal sealed class EncoderTrainingPass
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required int Hidden { get; init; }
    public required ModelInputs Inputs { get; init; }
    public required int[] PositionIds { get; init; }          // (B, T)
    public required ReadOnlyMemory<float> AdditiveMask { get; init; } // (B, T) or empty
    public required Memory<float> EmbeddingSum { get; init; }       // (B, T, C) LayerNorm input
    public required Memory<float> EmbeddingNormOut { get; init; }   // (B, T, C)
    public required Memory<float> EmbeddingMean { get; init; }      // (B, T)
    public required Memory<float> EmbeddingRstd { get; init; }      // (B, T)
    public required Memory<byte> EmbeddingDropoutKeep { get; init; } // (B, T, C), empty without dropout
    public required Memory<float> EmbeddingOutput { get; init; }    // (B, T, C): NormOut, or its dropout
    public required IReadOnlyList<EncoderLayerActivations> Layers { get; init; }

    /// <summary>(B, T, C) the encoder's output.</summary>
    public Memory<float> LastHidden => Layers.Count == 0 ? EmbeddingOutput : Layers[^1].Output;

    public bool EmbeddingDropoutApplied => !EmbeddingDropoutKeep.IsEmpty;

    /// <summary>(B, C) each sequence's first ([CLS]) hidden state.</summary>
    public void FirstTokens(Span<float> destination)
    {
        var all = LastHidden.Span;
        for (int b = 0; b < Batch; b++) all.Slice(b * Seq * Hidden, Hidden).CopyTo(destination.Slice(b * Hidden, Hidden));
    }

    /// <summary>dHidden (B, T, C) = 0 except dHidden[b, 0] = dFirst[b]: the gradient of taking the first tokens.</summary>
    public void FirstTokensBackward(ReadOnlySpan<float> dFirst, Span<float> dHidden)
    {
        dHidden.Clear();
        for (int b = 0; b < Batch; b++) dFirst.Slice(b * Hidden, Hidden).CopyTo(dHidden.Slice(b * Seq * Hidden, Hidden));
    }
}

/// <summary>Runs a stack of post-LN encoder layers in training mode, forward and backward.</summary>
internal static class EncoderTraining
{
    /// <summary>
    /// The layers on top of the embeddings' output in <paramref name="embeddingOutput"/>, each keeping
    /// its own activations (and dropout masks when <paramref name="random"/> is given).
    /// </summary>
    public static List<EncoderLayerActivations> ForwardLayers(IReadOnlyList<PostNormEncoderLayer> layers, ActivationArena arena,
        Memory<float> embeddingOutput, int batch, int seq, int hidden, int heads, int intermediate, ReadOnlyMemory<float> additiveMask, SeededRandom? random)
    {
        var kept = new List<EncoderLayerActivations>(layers.Count);
        var input = embeddingOutput;
        foreach (var layer in layers)
        {
            bool withDropout = random is not null && (layer.AttentionProbsDropout.IsActive || layer.AttentionOutputDropout.IsActive || layer.OutputDropout.IsActive);
            var acts = new EncoderLayerActivations(arena, batch, seq, hidden, heads, intermediate, keepForBackward: true, withDropout: withDropout)
            {
                Input = input,
            };
            layer.Forward(acts, additiveMask, random);
            kept.Add(acts);
            input = acts.Output;
        }
        return kept;
    }

    /// <summary>
    /// Back through the layers from dLastHidden (B, T, C), which is used as scratch; returns the
    /// gradient of the embeddings' output (one of two ping-pong buffers).
    /// </summary>
    public static Memory<float> BackwardLayers(IReadOnlyList<PostNormEncoderLayer> layers, EncoderTrainingPass pass, Memory<float> dLastHidden, ActivationArena arena)
    {
        if (layers.Count == 0) return dLastHidden;
        var first = pass.Layers[0];
        var g = new EncoderLayerGradients(arena, pass.Batch, pass.Seq, pass.Hidden, first.Heads, first.IntermediateSize);
        var dOutput = dLastHidden;
        var dInput = arena.Take(dLastHidden.Length);                                  // (B, T, C)
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            layers[l].Backward(pass.Layers[l], g, dOutput, dInput);
            (dOutput, dInput) = (dInput, dOutput);
        }
        return dOutput;
    }

    /// <summary>A training dropout whose mask is kept for backward (embeddings, classifier heads): (x, no mask) when inactive or without a generator.</summary>
    public static (Memory<float> Output, Memory<byte> Keep) DropoutForTraining(Dropout dropout, Memory<float> normOut, ActivationArena arena, SeededRandom? random)
    {
        if (random is null || !dropout.IsActive) return (normOut, Memory<byte>.Empty);
        var keep = arena.TakeBytes(normOut.Length);                                    // (B, T, C)
        var output = arena.Take(normOut.Length);                                       // (B, T, C)
        dropout.Forward(normOut, keep, output, random);
        return (output, keep);
    }

    /// <summary>d(LN input) from d(embedding output): dropout backward, then LayerNorm backward, in place over dOutput.</summary>
    public static Memory<float> EmbeddingNormBackward(EncoderTrainingPass pass, Dropout dropout, LayerNorm norm, Memory<float> dOutput, ActivationArena arena)
    {
        if (pass.EmbeddingDropoutApplied) dropout.Backward(dOutput, pass.EmbeddingDropoutKeep, dOutput);
        norm.Backward(pass.EmbeddingSum, pass.EmbeddingMean, pass.EmbeddingRstd, dOutput, dOutput, arena);
        return dOutput;                                                                // (B, T, C) d(sum)
    }
}

/// <summary>
/// A model's training state: the arenas that hold the last training forward's activations and the
/// backward's scratch (grown to the largest batch seen, then reused: no allocation per step once
/// warm), and what the head kept for its backward.
/// </summary>
internal sealed class TrainingWorkspace
{
    public ActivationArena Forward { get; } = new();

    public ActivationArena Backward { get; } = new();

    /// <summary>The head's cache of the last training forward; null once its backward has run or before any.</summary>
    public object? Pending { get; set; }

    /// <summary>A (B·T) array of zeros (token type 0 for every position), grown as needed.</summary>
    public int[] Zeros(int length)
    {
        if (zeros.Length < length) zeros = new int[length];
        return zeros;
    }

    private int[] zeros = [];
}

/// <summary>What a classification head kept from its training forward.</summary>
internal sealed class ClassificationHeadCache
{
    public required EncoderTrainingPass Pass { get; init; }
    public required Memory<float> First { get; init; }         // (B, C) hidden[:, 0]
    public required Memory<float> Activated { get; init; }     // (B, C) pooler tanh (BERT) or pre_classifier ReLU (DistilBERT) output
    public required Memory<float> PreActivation { get; init; } // (B, C) DistilBERT's pre_classifier output (ReLU's input); empty for BERT
    public required Memory<byte> DropoutKeep { get; init; }    // (B, C) or empty
    public required Memory<float> ClassifierInput { get; init; } // (B, C) Activated after dropout
    public required Tensor Logits { get; init; }               // (B, L)
    public required ITensor? Labels { get; init; }
}
