using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>
/// What a training-mode forward of an encoder kept for backward, all in the model's training arena
/// (valid until the next training forward). Heads (sequence classification, masked-LM) build on
/// <see cref="LastHidden"/> and hand its gradient back to the encoder's backward; each architecture
/// keeps its own intermediates in a subclass.
/// </summary>
internal abstract class EncoderTrainingPass
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required int Hidden { get; init; }
    public required ModelInputs Inputs { get; init; }

    /// <summary>(B, T, C) the encoder's output.</summary>
    public abstract Memory<float> LastHidden { get; }

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

/// <summary>
/// A <see cref="PostNormEncoder"/>'s training forward: the embeddings' intermediates, the projection's
/// output when there is one, and every layer application's <see cref="EncoderLayerActivations"/>.
/// </summary>
internal sealed class PostNormTrainingPass : EncoderTrainingPass
{
    public required int[] PositionIds { get; init; }          // (B, T)
    public required ReadOnlyMemory<float> AdditiveMask { get; init; } // (B, T) or empty
    public required Memory<float> EmbeddingSum { get; init; }       // (B, T, E) LayerNorm input
    public required Memory<float> EmbeddingNormOut { get; init; }   // (B, T, E)
    public required Memory<float> EmbeddingMean { get; init; }      // (B, T)
    public required Memory<float> EmbeddingRstd { get; init; }      // (B, T)
    public required Memory<byte> EmbeddingDropoutKeep { get; init; } // (B, T, E), empty without dropout
    public required Memory<float> EmbeddingOutput { get; init; }    // (B, T, E): NormOut, or its dropout
    public required Memory<float> Projected { get; init; }          // (B, T, C) the projection of EmbeddingOutput; empty without one
    public required IReadOnlyList<EncoderLayerActivations> Layers { get; init; }

    /// <summary>(B, T, C) what the first layer reads.</summary>
    public Memory<float> LayerInput => Projected.IsEmpty ? EmbeddingOutput : Projected;

    public override Memory<float> LastHidden => Layers.Count == 0 ? LayerInput : Layers[^1].Output;

    public bool EmbeddingDropoutApplied => !EmbeddingDropoutKeep.IsEmpty;
}

/// <summary>Runs a stack of post-LN encoder layers in training mode, forward and backward.</summary>
internal static class EncoderTraining
{
    /// <summary>
    /// The layers on top of <paramref name="input"/> (B, T, C), each application keeping its own
    /// activations (and dropout masks when <paramref name="random"/> is given). A layer that appears
    /// more than once (ALBERT's shared layers) gets one set per application.
    /// </summary>
    public static List<EncoderLayerActivations> ForwardLayers(IReadOnlyList<PostNormEncoderLayer> layers, ActivationArena arena,
        Memory<float> input, int batch, int seq, int hidden, int heads, int intermediate, ReadOnlyMemory<float> additiveMask, SeededRandom? random)
    {
        var kept = new List<EncoderLayerActivations>(layers.Count);
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
    /// Back through the layer applications from dLastHidden (B, T, C), which is used as scratch;
    /// returns the gradient of the first layer's input (one of two ping-pong buffers). Parameter
    /// gradients accumulate, so a shared layer receives the sum over its applications.
    /// </summary>
    public static Memory<float> BackwardLayers(IReadOnlyList<PostNormEncoderLayer> layers, IReadOnlyList<EncoderLayerActivations> kept,
        Memory<float> dLastHidden, ActivationArena arena)
    {
        if (layers.Count == 0) return dLastHidden;
        var first = kept[0];
        var g = new EncoderLayerGradients(arena, first.Batch, first.Seq, first.Hidden, first.Heads, first.IntermediateSize);
        var dOutput = dLastHidden;
        var dInput = arena.Take(dLastHidden.Length);                                  // (B, T, C)
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            layers[l].Backward(kept[l], g, dOutput, dInput);
            (dOutput, dInput) = (dInput, dOutput);
        }
        return dOutput;
    }

    /// <summary>A training dropout whose mask is kept for backward (embeddings, classifier heads): (x, no mask) when inactive or without a generator.</summary>
    public static (Memory<float> Output, Memory<byte> Keep) DropoutForTraining(Dropout dropout, Memory<float> x, ActivationArena arena, SeededRandom? random)
    {
        if (random is null || !dropout.IsActive) return (x, Memory<byte>.Empty);
        var keep = arena.TakeBytes(x.Length);                                          // x's shape
        var output = arena.Take(x.Length);                                             // x's shape
        dropout.Forward(x, keep, output, random);
        return (output, keep);
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

/// <summary>What a <see cref="FirstTokenClassificationHead"/> kept from its training forward.</summary>
internal sealed class ClassificationHeadCache
{
    public required EncoderTrainingPass Pass { get; init; }
    public required Memory<float> First { get; init; }           // (B, C) hidden[:, 0]
    public required Memory<byte> InputDropoutKeep { get; init; } // (B, C) or empty
    public required Memory<float> DenseInput { get; init; }      // (B, C) First, or its dropout
    public required Memory<float> PreActivation { get; init; }   // (B, C) dense output
    public required Memory<float> Activated { get; init; }       // (B, C) act(PreActivation)
    public required Memory<byte> DropoutKeep { get; init; }      // (B, C) or empty
    public required Memory<float> ClassifierInput { get; init; } // (B, C) Activated, or its dropout
    public required Tensor Logits { get; init; }                 // (B, L)
    public required ITensor? Labels { get; init; }
}
