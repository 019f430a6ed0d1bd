using System.Runtime.CompilerServices;

namespace Sharpformers.Kernels;

/// <summary>
/// Scaled dot-product attention for inference, fused per (sequence, head): for each tile of 8 queries
/// the scores against every key of the sequence (scale·Q·Kᵀ, an 8 × T strip that stays in L1), the
/// masked softmax of that strip, and its product with V, written straight into the head's columns of
/// the context. No (B, H, T, T) tensor is built unless the caller asks for the probabilities
/// (<c>output_attentions</c>), and no query attends across a sequence boundary, so sequences of different
/// lengths can be packed back to back without padding ("varlen" batches).
/// <para>
/// Layout: token t of the batch is row t of Q, K and V (row stride <c>ldQkv</c>, so the three can be
/// column blocks of one fused QKV projection), head h is columns [h·D, (h+1)·D). Sequence b is rows
/// [starts[b], starts[b+1]). The score and context products run on the GEMM micro-kernels with the
/// same packing and summation order as <see cref="Gemm.SgemmStridedBatched"/>, and the softmax is
/// <see cref="Softmax.Rows(ReadOnlySpan{float}, int, ReadOnlySpan{float}, Span{float})"/>, so on a padded
/// batch the result equals the unfused path bit for bit. Naive twin: <see cref="FusedAttentionReference"/>.
/// </para>
/// </summary>
public static class FusedAttention
{
    /// <summary>Below this many multiply-adds in all, the heads run on the calling thread.</summary>
    private const long ParallelMinMacs = 1L << 18;

    [ThreadStatic]
    private static Job? cachedJob;

    /// <summary>
    /// context[t, h·D..] = softmax(scale · q_t·K_hᵀ + mask) · V_h over the keys of t's sequence, for
    /// every token t and head h.
    /// </summary>
    /// <param name="query">Row t holds token t's query, heads side by side (H·D values at stride <paramref name="ldQkv"/>).</param>
    /// <param name="key">Same layout as the query.</param>
    /// <param name="value">Same layout as the query.</param>
    /// <param name="ldQkv">Row stride of query, key and value (≥ H·D).</param>
    /// <param name="sequenceStarts">B + 1 increasing token offsets: sequence b is rows [starts[b], starts[b+1]).</param>
    /// <param name="heads">H.</param>
    /// <param name="headDim">D.</param>
    /// <param name="scale">Multiplies Q·Kᵀ (1/√D).</param>
    /// <param name="additiveMask">One value per token (added to its score as a key: 0, or float.MinValue for padding), or empty.</param>
    /// <param name="context">Row t receives token t's H·D outputs, at stride <paramref name="ldContext"/>; must not overlap the inputs.</param>
    /// <param name="ldContext">Row stride of the context (≥ H·D).</param>
    /// <param name="probabilities">
    /// Empty, or (B, H, T, T) receiving the attention weights when every sequence has the same length T
    /// (HF's output_attentions).
    /// </param>
    public static unsafe void Forward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, int ldQkv,
        ReadOnlySpan<int> sequenceStarts, int heads, int headDim, float scale, ReadOnlySpan<float> additiveMask,
        Span<float> context, int ldContext, Span<float> probabilities)
    {
        int tokens = Validate(query, key, value, ldQkv, sequenceStarts, heads, headDim, additiveMask, context, ldContext, probabilities, out int uniformLength);
        int batch = sequenceStarts.Length - 1;
        if (tokens == 0 || heads == 0 || headDim == 0) return;
        long macs = 0;
        for (int b = 0; b < batch; b++)
        {
            long t = sequenceStarts[b + 1] - sequenceStarts[b];
            macs += 2 * t * t * headDim;
        }
        macs *= heads;
        fixed (float* pq = query)
        fixed (float* pk = key)
        fixed (float* pv = value)
        fixed (int* ps = sequenceStarts)
        fixed (float* pm = additiveMask)
        fixed (float* pc = context)
        fixed (float* pp = probabilities)
        {
            var job = cachedJob ?? new Job();
            cachedJob = null;
            try
            {
                job.Isa = GemmDispatch.Current;
                job.Q = pq;
                job.K = pk;
                job.V = pv;
                job.Ld = ldQkv;
                job.Starts = ps;
                job.Heads = heads;
                job.HeadDim = headDim;
                job.Scale = scale;
                job.Mask = additiveMask.IsEmpty ? null : pm;
                job.Context = pc;
                job.LdContext = ldContext;
                job.Probabilities = probabilities.IsEmpty ? null : pp;
                job.UniformLength = uniformLength;
                int items = batch * heads;
                if (macs < ParallelMinMacs || KernelParallel.AvailableThreads == 1)
                {
                    for (int i = 0; i < items; i++) job.Invoke(i);
                }
                else
                {
                    KernelParallel.For(items, job);
                }
            }
            finally
            {
                job.Q = job.K = job.V = job.Context = job.Probabilities = job.Mask = null;
                job.Starts = null;
                cachedJob = job;
            }
        }
    }

    /// <summary>Checks the arguments; returns the token count and the common sequence length (or -1).</summary>
    internal static int Validate(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, int ldQkv,
        ReadOnlySpan<int> sequenceStarts, int heads, int headDim, ReadOnlySpan<float> additiveMask,
        Span<float> context, int ldContext, Span<float> probabilities, out int uniformLength)
    {
        if (heads < 0) KernelThrow.Argument(nameof(heads), "heads must be non-negative.");
        if (headDim < 0) KernelThrow.Argument(nameof(headDim), "headDim must be non-negative.");
        int width = heads * headDim;
        if (ldQkv < Math.Max(1, width)) KernelThrow.Argument(nameof(ldQkv), $"ldQkv {ldQkv} is smaller than heads × headDim = {width}.");
        if (ldContext < Math.Max(1, width)) KernelThrow.Argument(nameof(ldContext), $"ldContext {ldContext} is smaller than heads × headDim = {width}.");
        if (sequenceStarts.Length < 1) KernelThrow.Argument(nameof(sequenceStarts), "sequenceStarts needs B + 1 offsets (at least one).");
        if (sequenceStarts[0] != 0) KernelThrow.Argument(nameof(sequenceStarts), $"sequenceStarts must begin at 0, got {sequenceStarts[0]}.");
        int batch = sequenceStarts.Length - 1;
        uniformLength = batch == 0 ? 0 : sequenceStarts[1];
        for (int b = 0; b < batch; b++)
        {
            int length = sequenceStarts[b + 1] - sequenceStarts[b];
            if (length < 0) KernelThrow.Argument(nameof(sequenceStarts), $"sequenceStarts must not decrease (sequence {b}: {sequenceStarts[b]} → {sequenceStarts[b + 1]}).");
            if (length != uniformLength) uniformLength = -1;
        }
        int tokens = sequenceStarts[batch];
        if (tokens > 0 && width > 0)
        {
            long needed = (long)(tokens - 1) * ldQkv + width;
            if (query.Length < needed) KernelThrow.SourceTooShort(nameof(query));
            if (key.Length < needed) KernelThrow.SourceTooShort(nameof(key));
            if (value.Length < needed) KernelThrow.SourceTooShort(nameof(value));
            if (context.Length < (long)(tokens - 1) * ldContext + width) KernelThrow.DestinationTooShort(nameof(context));
        }
        if (!additiveMask.IsEmpty && additiveMask.Length != tokens)
        {
            KernelThrow.Argument(nameof(additiveMask), $"additiveMask has {additiveMask.Length} values, expected one per token ({tokens}).");
        }
        if (!probabilities.IsEmpty)
        {
            if (uniformLength < 0) KernelThrow.Argument(nameof(probabilities), "Attention probabilities need sequences of one length (a padded batch).");
            long expected = (long)batch * heads * uniformLength * uniformLength;
            if (probabilities.Length != expected)
            {
                KernelThrow.Argument(nameof(probabilities), $"probabilities has {probabilities.Length} values, expected B·H·T·T = {expected}.");
            }
        }
        return tokens;
    }

    /// <summary>One (sequence, head) pair per item: item i is sequence i / H, head i % H.</summary>
    private sealed unsafe class Job : IParallelBody
    {
        public GemmIsa Isa;
        public float* Q;
        public float* K;
        public float* V;
        public nint Ld;
        public int* Starts;
        public int Heads;
        public int HeadDim;
        public float Scale;
        public float* Mask;
        public float* Context;
        public nint LdContext;
        public float* Probabilities;
        public int UniformLength;

        public void Invoke(int index)
        {
            switch (Isa)
            {
                case GemmIsa.Avx512: Head<GemmKernelsAvx512>(index); break;
                case GemmIsa.Avx2: Head<GemmKernelsAvx2>(index); break;
                default: Head<GemmKernelsScalar>(index); break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Head<TK>(int index) where TK : struct, IGemmKernelSet
        {
            int b = index / Heads;
            int h = index % Heads;
            int start = Starts[b];
            int length = Starts[b + 1] - start;
            if (length == 0) return;
            int d = HeadDim;
            float* q = Q + start * Ld + h * d;
            float* k = K + start * Ld + h * d;
            float* v = V + start * Ld + h * d;
            float* context = Context + start * LdContext + h * d;

            // Kᵀ (D, T) and V (T, D) packed as GEMM B operands, exactly as the strided-batched GEMM packs them.
            var keyLayout = GemmLayout.For<TK>(d, length);
            var valueLayout = GemmLayout.For<TK>(length, d);
            var scratch = AttentionScratch.Rent(keyLayout.PackedLength + valueLayout.PackedLength + (long)TK.MR * Stride(length));
            try
            {
                float* packedKey = scratch.Pointer;
                float* packedValue = packedKey + keyLayout.PackedLength;
                float* strip = packedValue + valueLayout.PackedLength;
                for (int block = 0; block < keyLayout.KBlocks; block++)
                {
                    GemmPacking.PackB(keyLayout, Transpose.Yes, k, Ld, block, 0, keyLayout.Panels, packedKey);
                }
                for (int block = 0; block < valueLayout.KBlocks; block++)
                {
                    GemmPacking.PackB(valueLayout, Transpose.No, v, Ld, block, 0, valueLayout.Panels, packedValue);
                }
                float* mask = Mask is null ? null : Mask + start;
                int mr = TK.MR;
                for (int i0 = 0; i0 < length; i0 += mr)
                {
                    int rows = Math.Min(mr, length - i0);
                    // The probabilities, when asked for, are the strip itself (row i of (b, h) in the (B, H, T, T) output).
                    float* scores;
                    nint ldScores;
                    if (Probabilities is not null)
                    {
                        scores = Probabilities + ((long)index * UniformLength + i0) * UniformLength;
                        ldScores = UniformLength;
                    }
                    else
                    {
                        scores = strip;
                        ldScores = Stride(length);
                    }
                    Product<TK>(keyLayout, q + i0 * Ld, Ld, rows, packedKey, Scale, scores, ldScores);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = new Span<float>(scores + r * ldScores, length);
                        Softmax.Rows(row, length, mask is null ? ReadOnlySpan<float>.Empty : new ReadOnlySpan<float>(mask, length), row);
                    }
                    Product<TK>(valueLayout, scores, ldScores, rows, packedValue, 1f, context + i0 * LdContext, LdContext);
                }
            }
            finally
            {
                AttentionScratch.Return(scratch);
            }
        }

        /// <summary>C (rows, n) = alpha · A (rows, k) · packed B (k, n), k blocks accumulated in order, as the GEMM driver does.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Product<TK>(in GemmLayout layout, float* a, nint lda, int rows, float* packed, float alpha, float* c, nint ldc)
            where TK : struct, IGemmKernelSet
        {
            for (int block = 0; block < layout.KBlocks; block++)
            {
                int k0 = block * layout.KcBlock;
                int depth = layout.BlockDepth(block);
                float beta = block == 0 ? 0f : 1f;
                for (int j = 0; j < layout.Panels; j++)
                {
                    int col0 = j * layout.PanelWidth;
                    int width = layout.PanelStoredWidth(j);
                    int cols = Math.Min(width, layout.N - col0);
                    TK.Tile(width, depth, a + k0, lda, 1, rows, packed + layout.PanelOffset(block, j), width, c + col0, ldc, cols, alpha, beta, null);
                }
            }
        }

        /// <summary>Row stride of the score strip: T rounded up to a cache line.</summary>
        private static int Stride(int length) => (length + 15) & ~15;
    }

    /// <summary>Per-thread packing and score buffers, reused across calls.</summary>
    private static class AttentionScratch
    {
        [ThreadStatic]
        private static AlignedBuffer? buffer;

        public static AlignedBuffer Rent(long floats)
        {
            var b = buffer;
            buffer = null;
            return b is not null && b.Length >= floats ? b : new AlignedBuffer(Math.Max(floats, 4096));
        }

        public static void Return(AlignedBuffer b)
        {
            if (buffer is null || buffer.Length < b.Length) buffer = b;
        }
    }
}

/// <summary>The naive double-precision attention <see cref="FusedAttention"/> is tested against.</summary>
public static class FusedAttentionReference
{
    public static void Forward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, int ldQkv,
        ReadOnlySpan<int> sequenceStarts, int heads, int headDim, float scale, ReadOnlySpan<float> additiveMask,
        Span<float> context, int ldContext, Span<float> probabilities)
    {
        int tokens = FusedAttention.Validate(query, key, value, ldQkv, sequenceStarts, heads, headDim, additiveMask, context, ldContext, probabilities, out int uniform);
        int batch = sequenceStarts.Length - 1;
        if (tokens == 0) return;
        for (int b = 0; b < batch; b++)
        {
            int start = sequenceStarts[b];
            int length = sequenceStarts[b + 1] - start;
            var scores = new double[length];
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < length; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < length; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < headDim; c++)
                        {
                            dot += (double)query[(start + i) * ldQkv + h * headDim + c] * key[(start + j) * ldQkv + h * headDim + c];
                        }
                        // The mask is added in float, as the model does, so float.MinValue saturates the same way.
                        float s = (float)(scale * dot) + (additiveMask.IsEmpty ? 0f : additiveMask[start + j]);
                        scores[j] = s;
                        max = Math.Max(max, s);
                    }
                    double sum = 0;
                    for (int j = 0; j < length; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j < length; j++)
                    {
                        scores[j] /= sum;
                        if (!probabilities.IsEmpty) probabilities[((b * heads + h) * uniform + i) * uniform + j] = (float)scores[j];
                    }
                    for (int c = 0; c < headDim; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < length; j++) acc += scores[j] * value[(start + j) * ldQkv + h * headDim + c];
                        context[(start + i) * ldContext + h * headDim + c] = (float)acc;
                    }
                }
            }
        }
    }
}
