using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;

namespace Sharpformers.Models;

/// <summary>
/// What an encoder's inference pass produced: the last hidden state (in the pass's arena) and the
/// optional per-layer outputs. The rows are either the padded (B, T) layout or, for a padding-free pass,
/// only the real tokens of each sequence back to back (<see cref="SequenceStarts"/>).
/// </summary>
internal sealed class EncoderPass
{
    public required int Batch { get; init; }
    public required int Seq { get; init; }
    public required int Hidden { get; init; }

    /// <summary>(tokens, C), valid until the arena is reset: (B, T, C) unless <see cref="IsPaddingFree"/>.</summary>
    public required Memory<float> LastHidden { get; init; }

    /// <summary>B + 1 row offsets of the sequences in <see cref="LastHidden"/>; null for the padded (B, T) layout.</summary>
    public int[]? SequenceStarts { get; init; }

    /// <summary>Whether padding was dropped (the rows are not the (B, T) layout).</summary>
    public bool IsPaddingFree { get; init; }

    public List<Tensor>? HiddenStates { get; init; }

    public List<Tensor>? Attentions { get; init; }

    public Tensor CopyLastHidden()
    {
        if (IsPaddingFree) throw new InvalidOperationException("A padding-free pass has no (B, T, C) hidden state to copy.");
        return new(LastHidden.ToArray(), Batch, Seq, Hidden);
    }

    /// <summary>(B, C) the hidden state of each sequence's first token ([CLS]).</summary>
    public void FirstTokens(Span<float> destination)
    {
        var all = LastHidden.Span;
        for (int b = 0; b < Batch; b++) all.Slice((SequenceStarts?[b] ?? b * Seq) * Hidden, Hidden).CopyTo(destination.Slice(b * Hidden, Hidden));
    }
}

/// <summary>
/// Runs a stack of post-LN encoder layers for inference through their pre-packed inference form
/// (<see cref="InferenceEncoderLayer"/>), on the hidden state in place.
/// </summary>
internal static class EncoderRunner
{
    [ThreadStatic]
    private static int[]? positionCache;

    [ThreadStatic]
    private static int positionSeq;

    /// <param name="layers">The stack.</param>
    /// <param name="arena">Scratch memory for this pass.</param>
    /// <param name="embeddings">(B, T, C) the embeddings' output (arena memory; the layers update it in place).</param>
    /// <param name="additiveMask">(B, T) or empty.</param>
    /// <param name="layersPerHiddenState">
    /// How many layer applications make one reported hidden state: 1, except for ALBERT, whose layer
    /// groups report one hidden state per group pass however many inner layers they run.
    /// </param>
    /// <param name="attentionMask">
    /// With <paramref name="firstTokensOnly"/>: the (B, T) 0/1 mask, so padding can be dropped when the
    /// caller only reads each sequence's first token (a classification head).
    /// </param>
    /// <param name="firstTokensOnly">The caller reads only hidden[:, 0]: padded positions need not be computed.</param>
    /// <param name="precision">float32 or int8 linear layers.</param>
    public static EncoderPass Run(IReadOnlyList<PostNormEncoderLayer> layers, ActivationArena arena, Memory<float> embeddings,
        int batch, int seq, int hidden, int heads, int intermediate, ReadOnlyMemory<float> additiveMask,
        bool outputAttentions, bool outputHiddenStates, int layersPerHiddenState = 1, ReadOnlySpan<int> attentionMask = default,
        bool firstTokensOnly = false, InferencePrecision precision = InferencePrecision.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layersPerHiddenState, 1);
        var hiddenStates = outputHiddenStates ? new List<Tensor> { new(embeddings.ToArray(), batch, seq, hidden) } : null;
        var attentions = outputAttentions ? new List<Tensor>() : null;
        bool paddingFree = firstTokensOnly && !outputAttentions && !outputHiddenStates && !attentionMask.IsEmpty
            && CanDropPadding(attentionMask, batch, seq);
        InferenceBatch layout;
        var state = embeddings;
        if (paddingFree)
        {
            layout = new InferenceBatch(Compact(embeddings.Span, attentionMask, batch, seq, hidden), ReadOnlyMemory<float>.Empty);
            state = embeddings[..(layout.Tokens * hidden)];
        }
        else
        {
            layout = InferenceBatch.Padded(batch, seq, additiveMask);
        }
        if (layers.Count > 0)
        {
            var buffers = new EncoderInferenceBuffers(arena, layout.Tokens, hidden, intermediate);
            var probabilities = outputAttentions ? arena.Take(checked(batch * heads * seq * seq)) : Memory<float>.Empty;
            for (int i = 0; i < layers.Count; i++)
            {
                InferenceEncoderLayer.For(layers[i]).Forward(precision, layout, state, buffers, probabilities);
                attentions?.Add(new Tensor(probabilities.ToArray(), batch, heads, seq, seq));
                if ((i + 1) % layersPerHiddenState == 0) hiddenStates?.Add(new Tensor(state.ToArray(), batch, seq, hidden));
            }
        }
        return new EncoderPass
        {
            Batch = batch, Seq = seq, Hidden = hidden, LastHidden = state, SequenceStarts = layout.Starts, IsPaddingFree = paddingFree,
            HiddenStates = hiddenStates, Attentions = attentions,
        };
    }

    /// <summary>
    /// Padding can be dropped when every sequence's first position is real (hidden[:, 0] is then a real
    /// token's state, which padded keys never influence: their softmax weight is exactly 0).
    /// </summary>
    private static bool CanDropPadding(ReadOnlySpan<int> mask, int batch, int seq)
    {
        if (mask.Length != batch * seq) return false;
        for (int b = 0; b < batch; b++)
        {
            if (mask[b * seq] != 1) return false;
        }
        return true;
    }

    /// <summary>Moves the real tokens' rows to the front, sequence after sequence, in place; returns the B + 1 sequence starts.</summary>
    private static int[] Compact(Span<float> rows, ReadOnlySpan<int> mask, int batch, int seq, int hidden)
    {
        var starts = new int[batch + 1];
        int next = 0;
        for (int b = 0; b < batch; b++)
        {
            starts[b] = next;
            for (int t = 0; t < seq; t++)
            {
                if (mask[b * seq + t] == 0) continue;
                int from = b * seq + t;
                if (from != next) rows.Slice(from * hidden, hidden).CopyTo(rows.Slice(next * hidden, hidden));
                next++;
            }
        }
        starts[batch] = next;
        return starts;
    }

    /// <summary>The additive mask (B, T) in arena memory, or empty when there is no attention mask (every position attended).</summary>
    public static ReadOnlyMemory<float> AdditiveMask(ModelInputs inputs, ActivationArena arena)
    {
        if (inputs.AttentionMask is null) return ReadOnlyMemory<float>.Empty;
        var mask = arena.Take(inputs.AttentionMask.Length);
        MultiHeadAttention.AdditiveMask(inputs.AttentionMask.Span, mask.Span);
        return mask;
    }

    /// <summary>
    /// Position ids for token (b, t): explicit ones, else t (0..T-1 in every sequence, as BERT and
    /// DistilBERT use). The default ids are cached per thread for the last (B, T): read-only.
    /// </summary>
    public static int[] PositionIds(ModelInputs inputs, int batch, int seq)
    {
        if (inputs.PositionIds is not null) return inputs.PositionIds.ToArray();
        int count = batch * seq;
        var ids = positionCache;
        if (ids is null || positionSeq != seq || ids.Length != count)
        {
            ids = new int[count];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < seq; t++)
                    ids[b * seq + t] = t;
            positionCache = ids;
            positionSeq = seq;
        }
        return ids;
    }
}
