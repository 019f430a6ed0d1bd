using Sharpformers.Nn;
using Sharpformers.Tensors;

namespace Sharpformers.Models;

/// <summary>What an encoder's inference pass produced: the last hidden state (in the pass's arena) and the optional per-layer outputs.</summary>
internal sealed class EncoderPass
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required int Hidden { get; init; }

    /// <summary>(B, T, C), valid until the arena is reset.</summary>
    public required Memory<float> LastHidden { get; init; }

    public List<Tensor>? HiddenStates { get; init; }

    public List<Tensor>? Attentions { get; init; }

    public Tensor CopyLastHidden() => new(LastHidden.ToArray(), Batch, Seq, Hidden);

    /// <summary>(B, C) the hidden state of each sequence's first token ([CLS]).</summary>
    public void FirstTokens(Span<float> destination)
    {
        var all = LastHidden.Span;
        for (int b = 0; b < Batch; b++) all.Slice(b * Seq * Hidden, Hidden).CopyTo(destination.Slice(b * Hidden, Hidden));
    }
}

/// <summary>Runs a stack of post-LN encoder layers for inference, two hidden-state buffers taking turns as input and output.</summary>
internal static class EncoderRunner
{
    /// <param name="layers">The stack.</param>
    /// <param name="arena">Scratch memory for this pass.</param>
    /// <param name="embeddings">(B, T, C) the embeddings' output (arena memory; it becomes a ping-pong buffer).</param>
    /// <param name="additiveMask">(B, T) or empty.</param>
    /// <param name="layersPerHiddenState">
    /// How many layer applications make one reported hidden state: 1, except for ALBERT, whose layer
    /// groups report one hidden state per group pass however many inner layers they run.
    /// </param>
    public static EncoderPass Run(IReadOnlyList<PostNormEncoderLayer> layers, ActivationArena arena, Memory<float> embeddings,
        int batch, int seq, int hidden, int heads, int intermediate, ReadOnlyMemory<float> additiveMask,
        bool outputAttentions, bool outputHiddenStates, int layersPerHiddenState = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layersPerHiddenState, 1);
        var hiddenStates = outputHiddenStates ? new List<Tensor> { new(embeddings.ToArray(), batch, seq, hidden) } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        if (layers.Count == 0)
        {
            return new EncoderPass { Batch = batch, Seq = seq, Hidden = hidden, LastHidden = embeddings, HiddenStates = hiddenStates, Attentions = attentions };
        }
        var acts = new EncoderLayerActivations(arena, batch, seq, hidden, heads, intermediate, keepForBackward: false);
        var current = embeddings;
        var other = arena.Take(embeddings.Length);
        for (int i = 0; i < layers.Count; i++)
        {
            acts.Input = current;
            acts.Output = other;
            layers[i].Forward(acts, additiveMask);
            attentions?.Add(new Tensor(acts.AttentionProbs.ToArray(), batch, heads, seq, seq));
            if ((i + 1) % layersPerHiddenState == 0) hiddenStates?.Add(new Tensor(acts.Output.ToArray(), batch, seq, hidden));
            (current, other) = (other, current);
        }
        return new EncoderPass { Batch = batch, Seq = seq, Hidden = hidden, LastHidden = current, HiddenStates = hiddenStates, Attentions = attentions };
    }

    /// <summary>The additive mask (B, T) in arena memory, or empty when there is no attention mask (every position attended).</summary>
    public static ReadOnlyMemory<float> AdditiveMask(ModelInputs inputs, ActivationArena arena)
    {
        if (inputs.AttentionMask is null) return ReadOnlyMemory<float>.Empty;
        var mask = arena.Take(inputs.AttentionMask.Length);
        MultiHeadAttention.AdditiveMask(inputs.AttentionMask.Span, mask.Span);
        return mask;
    }

    /// <summary>Position ids for token (b, t): explicit ones, else t (0..T-1 in every sequence, as BERT and DistilBERT use).</summary>
    public static int[] PositionIds(ModelInputs inputs, int batch, int seq)
    {
        if (inputs.PositionIds is not null) return inputs.PositionIds.ToArray();
        var ids = new int[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
                ids[b * seq + t] = t;
        return ids;
    }
}
