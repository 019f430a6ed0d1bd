using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>
/// Scaled dot-product attention over heads laid side by side in the hidden dimension, the layout the
/// Q/K/V projections produce: head h of token t is columns [h·D, (h+1)·D) of row t. No permute copies:
/// the per-head matrices are read in place with a leading dimension of C = H·D. Forward and backward
/// side by side; each sequence's heads go through one strided-batched GEMM per product.
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
        Memory<float> probs, Memory<float> context) =>
        Forward(query, key, value, batch, seq, heads, headDim, scale, additiveMask, probs, context, null, default, default, null);

    /// <summary>
    /// Training-mode forward: as above, then dropout on the attention weights (HF's
    /// attention_probs_dropout_prob / attention_dropout) before they multiply V.
    /// </summary>
    /// <param name="dropout">The dropout on the weights; null or inactive for none.</param>
    /// <param name="dropoutKeep">(B, H, T, T) the mask drawn (kept for backward).</param>
    /// <param name="droppedProbs">(B, H, T, T) the weights after dropout, what multiplies V (kept for backward).</param>
    /// <param name="random">The trainer's generator (one draw).</param>
    public static void Forward(
        ReadOnlyMemory<float> query, ReadOnlyMemory<float> key, ReadOnlyMemory<float> value,
        int batch, int seq, int heads, int headDim, float scale, ReadOnlyMemory<float> additiveMask,
        Memory<float> probs, Memory<float> context,
        Dropout? dropout, Memory<byte> dropoutKeep, Memory<float> droppedProbs, Utils.SeededRandom? random)
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
        bool dropped = dropout is { IsActive: true } && random is not null;
        if (dropped)
        {
            Check(dropoutKeep.Length, batch * htt, nameof(dropoutKeep));
            Check(droppedProbs.Length, batch * htt, nameof(droppedProbs));
        }
        ulong seed = dropped ? dropout!.NextSeed(random!) : 0;

        if (batch > 1 && batch >= KernelParallel.MaxThreads)
        {
            // Enough sequences for every thread: each does one sequence's whole attention (its (H, T, T)
            // scores stay in cache from the product through the softmax to P·V); the GEMMs inside run inline.
            KernelParallel.For(batch, b =>
            {
                var p = probs.Span.Slice((int)(b * htt), (int)htt);
                var q = query.Span.Slice((int)(b * tc), (int)tc);
                var k = key.Span.Slice((int)(b * tc), (int)tc);
                Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, seq, headDim, scale, q, c, headDim, k, c, headDim, 0f, p, seq, (long)seq * seq, heads);
                Softmax.Rows(p, seq, additiveMask.IsEmpty ? ReadOnlySpan<float>.Empty : additiveMask.Span.Slice(b * seq, seq), p);
                Span<float> weights = p;
                if (dropped)
                {
                    weights = droppedProbs.Span.Slice((int)(b * htt), (int)htt);
                    dropout!.ForwardSlice(p, dropoutKeep.Span.Slice((int)(b * htt), (int)htt), weights, seed, b * htt);
                }
                Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f, weights, seq, (long)seq * seq,
                    value.Span.Slice((int)(b * tc), (int)tc), c, headDim, 0f, context.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
            });
            return;
        }

        // Fewer sequences than threads (e.g. one text at inference): each step spreads its own work across threads.
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

        var weightsAll = probs;
        if (dropped)
        {
            RowParallel.For(probs.Length, 1, (start, count) => dropout!.ForwardSlice(
                probs.Span.Slice(start, count), dropoutKeep.Span.Slice(start, count), droppedProbs.Span.Slice(start, count), seed, start));
            weightsAll = droppedProbs;
        }

        // Context: probs_h (T, T) · V_h (T, D) written straight into the head's columns of (B, T, C).
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
                weightsAll.Span.Slice((int)(b * htt), (int)htt), seq, (long)seq * seq,
                value.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, context.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
        }
    }

    /// <summary>
    /// Backward of the training forward. With P the softmax output, P′ the weights after dropout
    /// (P itself without dropout) and dC the context gradient, per sequence and head:
    /// dP′ = dC·Vᵀ, dV = P′ᵀ·dC, dP = dropout′(dP′), dS = scale · P ∘ (dP − rowsum(dP ∘ P)),
    /// dQ = dS·K, dK = dSᵀ·Q. dQuery, dKey and dValue are overwritten.
    /// </summary>
    /// <param name="probs">(B, H, T, T) the softmax output.</param>
    /// <param name="droppedProbs">(B, H, T, T) the weights that multiplied V (= probs without dropout).</param>
    /// <param name="dropout">The weights' dropout, or null.</param>
    /// <param name="dropoutKeep">(B, H, T, T) its mask (empty without dropout).</param>
    /// <param name="dContext">(B, T, C)</param>
    /// <param name="dProbs">(B, H, T, T) scratch.</param>
    /// <param name="dQuery">(B, T, C)</param>
    /// <param name="dKey">(B, T, C)</param>
    /// <param name="dValue">(B, T, C)</param>
    public static void Backward(
        ReadOnlyMemory<float> query, ReadOnlyMemory<float> key, ReadOnlyMemory<float> value,
        int batch, int seq, int heads, int headDim, float scale,
        ReadOnlyMemory<float> probs, ReadOnlyMemory<float> droppedProbs, Dropout? dropout, ReadOnlyMemory<byte> dropoutKeep,
        ReadOnlyMemory<float> dContext, Memory<float> dProbs,
        Memory<float> dQuery, Memory<float> dKey, Memory<float> dValue)
    {
        int c = heads * headDim;
        long tc = (long)seq * c;
        long htt = (long)heads * seq * seq;
        Check(query.Length, batch * tc, nameof(query));
        Check(key.Length, batch * tc, nameof(key));
        Check(value.Length, batch * tc, nameof(value));
        Check(probs.Length, batch * htt, nameof(probs));
        Check(droppedProbs.Length, batch * htt, nameof(droppedProbs));
        Check(dContext.Length, batch * tc, nameof(dContext));
        Check(dProbs.Length, batch * htt, nameof(dProbs));
        Check(dQuery.Length, batch * tc, nameof(dQuery));
        Check(dKey.Length, batch * tc, nameof(dKey));
        Check(dValue.Length, batch * tc, nameof(dValue));
        if (batch == 0 || seq == 0) return;
        bool dropped = dropout is { IsActive: true } && !dropoutKeep.IsEmpty;
        float dropoutScale = dropped ? dropout!.Scale : 1f;
        if (batch > 1 && batch >= KernelParallel.MaxThreads)
        {
            // One sequence per task, its (H, T, T) gradient kept in cache through all four products.
            KernelParallel.For(batch, b => BackwardSequence(b));
            return;
        }
        for (int b = 0; b < batch; b++) BackwardProducts(b);
        // dS = scale · P ∘ (dP − rowsum(dP ∘ P)), after dropout's backward, in place over dP.
        RowParallel.For(batch * heads * seq, seq, (start, count) =>
        {
            var dp = dProbs.Span.Slice(start * seq, count * seq);
            if (dropped) DropoutMask.Apply(dp, dropoutKeep.Span.Slice(start * seq, count * seq), dropoutScale, dp);
            SoftmaxBackward.Rows(probs.Span.Slice(start * seq, count * seq), dp, seq, scale, dp);
        });
        for (int b = 0; b < batch; b++) InputProducts(b);

        void BackwardSequence(int b)
        {
            BackwardProducts(b);
            var dp = dProbs.Span.Slice((int)(b * htt), (int)htt);
            if (dropped) DropoutMask.Apply(dp, dropoutKeep.Span.Slice((int)(b * htt), (int)htt), dropoutScale, dp);
            SoftmaxBackward.Rows(probs.Span.Slice((int)(b * htt), (int)htt), dp, seq, scale, dp);
            InputProducts(b);
        }

        void BackwardProducts(int b)
        {
            var dc = dContext.Span.Slice((int)(b * tc), (int)tc);
            // dP′_h (T, T) = dC_h (T, D) · V_hᵀ
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, seq, headDim, 1f,
                dc, c, headDim, value.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, dProbs.Span.Slice((int)(b * htt), (int)htt), seq, (long)seq * seq, heads);
            // dV_h (T, D) = P′_hᵀ (T, T) · dC_h (T, D)
            Gemm.SgemmStridedBatched(Transpose.Yes, Transpose.No, seq, headDim, seq, 1f,
                droppedProbs.Span.Slice((int)(b * htt), (int)htt), seq, (long)seq * seq, dc, c, headDim,
                0f, dValue.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
        }

        void InputProducts(int b)
        {
            var ds = dProbs.Span.Slice((int)(b * htt), (int)htt);
            // dQ_h (T, D) = dS_h (T, T) · K_h (T, D)
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
                ds, seq, (long)seq * seq, key.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, dQuery.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
            // dK_h (T, D) = dS_hᵀ (T, T) · Q_h (T, D)
            Gemm.SgemmStridedBatched(Transpose.Yes, Transpose.No, seq, headDim, seq, 1f,
                ds, seq, (long)seq * seq, query.Span.Slice((int)(b * tc), (int)tc), c, headDim,
                0f, dKey.Span.Slice((int)(b * tc), (int)tc), c, headDim, heads);
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
