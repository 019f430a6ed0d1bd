using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>
/// Scaled dot-product attention over heads laid side by side in the hidden dimension, the layout the
/// Q/K/V projections produce: head h of token t is columns [h·D, (h+1)·D) of row t. No permute copies:
/// the per-head matrices are read in place with a leading dimension of C = H·D.
/// </summary>
public static class MultiHeadAttention
{
    /// <summary>
    /// probs (B, H, T, T) = softmax(scale · Q_h·K_hᵀ + mask) and context (B, T, C) = probs · V_h.
    /// </summary>
    /// <param name="query">(B, T, C)</param>
    /// <param name="key">(B, T, C)</param>
    /// <param name="value">(B, T, C)</param>
    /// <param name="additiveMask">(B, T): 0 for a key to attend to, float.MinValue for padding; empty for none.</param>
    /// <param name="probs">(B, H, T, T): the attention weights (kept for HF's output_attentions and for backward).</param>
    /// <param name="context">(B, T, C)</param>
    public static void Forward(
        ReadOnlyMemory<float> query, ReadOnlyMemory<float> key, ReadOnlyMemory<float> value,
        int batch, int seq, int heads, int headDim, float scale, ReadOnlyMemory<float> additiveMask,
        Memory<float> probs, Memory<float> context)
    {
        int c = heads * headDim;
        long tc = (long)seq * c;
        long htt = (long)heads * seq * seq;
        Check(query.Length, batch * tc, nameof(query));
        Check(key.Length, batch * tc, nameof(key));
        Check(value.Length, batch * tc, nameof(value));
        Check(context.Length, batch * tc, nameof(context));
        Check(probs.Length, batch * htt, nameof(probs));
        if (!additiveMask.IsEmpty) Check(additiveMask.Length, (long)batch * seq, nameof(additiveMask));
        if (batch == 0 || seq == 0) return;

        // Scores: for each sequence, one batched GEMM over its heads (head h starts h·D columns in).
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, seq, headDim, scale,
                query.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                key.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, probs.Span.Slice((int)(b * htt), (int)htt), seq, (long)seq * seq, heads);
        }

        // Softmax over keys, every (b, h, query) row; the mask row is the sequence's.
        int rowsPerSequence = heads * seq;
        RowParallel.For(batch * rowsPerSequence, seq, (start, count) =>
        {
            var p = probs.Span;
            int row = start;
            int end = start + count;
            while (row < end)
            {
                int b = row / rowsPerSequence;
                int runEnd = Math.Min(end, (b + 1) * rowsPerSequence);
                var rows = p.Slice(row * seq, (runEnd - row) * seq);
                var mask = additiveMask.IsEmpty ? ReadOnlySpan<float>.Empty : additiveMask.Span.Slice(b * seq, seq);
                Softmax.Rows(rows, seq, mask, rows);
                row = runEnd;
            }
        });

        // Context: probs_h (T, T) · V_h (T, D) written straight into the head's columns of (B, T, C).
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
                probs.Span.Slice((int)(b * htt), (int)htt), seq, (long)seq * seq,
                value.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, context.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
        }
    }

    /// <summary>
    /// The additive mask (B, T) from an attention mask of 1 (attend) / 0 (padding), as HF builds it:
    /// (1 - mask)·finfo(float32).min. Adding it saturates a padded score at float.MinValue, which is the
    /// same as DistilBERT's masked_fill, so one mask serves both.
    /// </summary>
    public static void AdditiveMask(ReadOnlySpan<int> attentionMask, Span<float> destination)
    {
        if (destination.Length != attentionMask.Length)
        {
            throw new ArgumentException($"Mask destination has {destination.Length} entries, the attention mask {attentionMask.Length}.", nameof(destination));
        }
        for (int i = 0; i < attentionMask.Length; i++) destination[i] = (1 - attentionMask[i]) * float.MinValue;
    }

    private static void Check(long actual, long expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements, expected {expected}.", name);
    }
}
