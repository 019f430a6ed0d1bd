using Sharpformers.Kernels;
using Sharpformers.TestSupport;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary><see cref="FusedAttention"/> against the double-precision reference and against the unfused GEMM + softmax path.</summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class FusedAttentionTests
{
    /// <summary>
    /// Q, K and V as column blocks of one fused (tokens, 3·H·D + pad) buffer, as a fused QKV projection
    /// writes them; returns the buffer and the three offsets.
    /// </summary>
    private static (float[] Qkv, int Ld) FusedQkv(Random rng, int tokens, int width, int pad, float scale = 1f)
    {
        int ld = 3 * width + pad;
        return (Random(rng, (long)tokens * ld, scale), ld);
    }

    private static float[] Mask(Random rng, int tokens, double maskedFraction)
    {
        var mask = new float[tokens];
        for (int t = 0; t < tokens; t++) mask[t] = rng.NextDouble() < maskedFraction ? float.MinValue : 0f;
        return mask;
    }

    private static void Run(bool reference, float[] qkv, int ld, int[] starts, int heads, int headDim, float[] mask, float[] context, int ldContext, float[] probabilities)
    {
        int width = heads * headDim;
        var q = qkv.AsSpan();
        var k = qkv.AsSpan(width);
        var v = qkv.AsSpan(2 * width);
        float scale = 1f / MathF.Sqrt(Math.Max(1, headDim));
        if (reference) FusedAttentionReference.Forward(q, k, v, ld, starts, heads, headDim, scale, mask, context, ldContext, probabilities);
        else FusedAttention.Forward(q, k, v, ld, starts, heads, headDim, scale, mask, context, ldContext, probabilities);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 6, 23, 40 }, 3, 20, 0.0)]       // ragged lengths 1, 5, 17, 17; D not a multiple of the vector width
    [InlineData(new[] { 0, 9, 18 }, 2, 64, 0.3)]               // masked keys
    [InlineData(new[] { 0, 130 }, 4, 16, 0.1)]                 // several query tiles and key panels
    [InlineData(new[] { 0, 0, 7, 7, 15 }, 1, 33, 0.0)]         // empty sequences between others
    [InlineData(new[] { 0, 600 }, 1, 16, 0.05)]                // T > 512: the context product runs in two k blocks
    [InlineData(new[] { 0, 3, 6 }, 12, 8, 0.0)]
    public void MatchesTheReference(int[] starts, int heads, int headDim, double maskedFraction)
    {
        var rng = new Random(starts[^1] * 7 + heads * 3 + headDim);
        int tokens = starts[^1];
        int width = heads * headDim;
        var (qkv, ld) = FusedQkv(rng, tokens, width, pad: 5, scale: 2f);
        var mask = maskedFraction > 0 ? Mask(rng, tokens, maskedFraction) : [];
        int ldContext = width + 3;
        var expected = Filled(tokens * ldContext, 9f);
        var actual = Filled(tokens * ldContext, 9f);
        Run(reference: true, qkv, ld, starts, heads, headDim, mask, expected, ldContext, []);
        foreach (int threads in new[] { 1, 2 })
        {
            Array.Fill(actual, 9f);
            WithThreads(threads, () => Run(reference: false, qkv, ld, starts, heads, headDim, mask, actual, ldContext, []));
            // Each output is a convex combination of V entries in [-2, 2]: absolute error ~1e-6 from the float softmax and sums.
            Approx.Equal(expected, actual, absTol: 2e-5, what: $"context, {threads} thread(s)");
        }
    }

    [Theory]
    [InlineData(3, 24, 2, 32)]
    [InlineData(2, 5, 3, 20)]
    [InlineData(1, 1, 1, 8)]
    public void WritesTheProbabilitiesOfAPaddedBatch(int batch, int seq, int heads, int headDim)
    {
        var rng = new Random(batch * 100 + seq);
        int tokens = batch * seq;
        int width = heads * headDim;
        var starts = Enumerable.Range(0, batch + 1).Select(b => b * seq).ToArray();
        var (qkv, ld) = FusedQkv(rng, tokens, width, pad: 0);
        var mask = Mask(rng, tokens, 0.25);
        var expectedContext = new float[tokens * width];
        var actualContext = new float[tokens * width];
        var expectedProbs = new float[batch * heads * seq * seq];
        var actualProbs = Filled(expectedProbs.Length, float.NaN);
        Run(reference: true, qkv, ld, starts, heads, headDim, mask, expectedContext, width, expectedProbs);
        Run(reference: false, qkv, ld, starts, heads, headDim, mask, actualContext, width, actualProbs);
        Approx.Equal(expectedProbs, actualProbs, absTol: 1e-6, relTol: 1e-5, what: "probabilities");
        Approx.Equal(expectedContext, actualContext, absTol: 1e-5, what: "context");
        for (int row = 0; row < batch * heads * seq; row++)
        {
            double sum = 0;
            for (int j = 0; j < seq; j++) sum += actualProbs[row * seq + j];
            Assert.InRange(sum, 1 - 1e-5, 1 + 1e-5);
        }
    }

    [Fact]
    public void AFullyMaskedSequenceAttendsUniformly()
    {
        // torch's finfo.min masking gives every key the same weight when all are masked.
        var rng = new Random(3);
        const int seq = 6, heads = 2, headDim = 4;
        var (qkv, ld) = FusedQkv(rng, seq, heads * headDim, pad: 0);
        var mask = Filled(seq, float.MinValue);
        var probs = new float[heads * seq * seq];
        var context = new float[seq * heads * headDim];
        Run(reference: false, qkv, ld, [0, seq], heads, headDim, mask, context, heads * headDim, probs);
        Assert.All(probs, p => Assert.Equal(1f / seq, p, 1e-6f));
    }

    [Fact]
    public void EqualsTheUnfusedGemmSoftmaxGemmPathBitForBit()
    {
        // The padded path of the model: strided-batched QKᵀ, the masked softmax over rows, strided-batched P·V.
        var rng = new Random(11);
        const int batch = 3, seq = 37, heads = 4, headDim = 64;
        const int c = heads * headDim;
        int tokens = batch * seq;
        var q = Random(rng, tokens * c);
        var k = Random(rng, tokens * c);
        var v = Random(rng, tokens * c);
        var mask = Mask(rng, tokens, 0.2);
        float scale = 1f / MathF.Sqrt(headDim);
        var probs = new float[batch * heads * seq * seq];
        var unfused = new float[tokens * c];
        for (int b = 0; b < batch; b++)
        {
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.Yes, seq, seq, headDim, scale,
                q.AsSpan(b * seq * c), c, headDim, k.AsSpan(b * seq * c), c, headDim,
                0f, probs.AsSpan(b * heads * seq * seq, heads * seq * seq), seq, seq * seq, heads);
            var rows = probs.AsSpan(b * heads * seq * seq, heads * seq * seq);
            Softmax.Rows(rows, seq, mask.AsSpan(b * seq, seq), rows);
            Gemm.SgemmStridedBatched(Transpose.No, Transpose.No, seq, headDim, seq, 1f,
                probs.AsSpan(b * heads * seq * seq, heads * seq * seq), seq, seq * seq, v.AsSpan(b * seq * c), c, headDim,
                0f, unfused.AsSpan(b * seq * c, seq * c), c, headDim, heads);
        }
        var starts = new[] { 0, seq, 2 * seq, 3 * seq };
        foreach (int threads in new[] { 1, 2 })
        {
            var fused = new float[tokens * c];
            var fusedProbs = new float[probs.Length];
            WithThreads(threads, () => FusedAttention.Forward(q, k, v, c, starts, heads, headDim, scale, mask, fused, c, fusedProbs));
            Assert.True(fused.AsSpan().SequenceEqual(unfused), $"context differs from the unfused path ({threads} threads)");
            Assert.True(fusedProbs.AsSpan().SequenceEqual(probs), $"probabilities differ from the unfused path ({threads} threads)");
            var withoutProbs = new float[tokens * c];
            WithThreads(threads, () => FusedAttention.Forward(q, k, v, c, starts, heads, headDim, scale, mask, withoutProbs, c, []));
            Assert.True(withoutProbs.AsSpan().SequenceEqual(unfused), $"context without probabilities differs ({threads} threads)");
        }
    }

    [Fact]
    public void PackedSequencesGiveWhatEachSequenceGivesAlone()
    {
        // Padding-free batches: a sequence's result does not depend on its neighbours.
        var rng = new Random(21);
        const int heads = 3, headDim = 32, width = heads * headDim;
        int[] lengths = [12, 40, 1, 29];
        var starts = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++) starts[i + 1] = starts[i] + lengths[i];
        var (qkv, ld) = FusedQkv(rng, starts[^1], width, pad: 0);
        var packed = new float[starts[^1] * width];
        Run(reference: false, qkv, ld, starts, heads, headDim, [], packed, width, []);
        for (int s = 0; s < lengths.Length; s++)
        {
            var alone = new float[lengths[s] * width];
            var slice = qkv.AsSpan(starts[s] * ld, lengths[s] * ld).ToArray();
            Run(reference: false, slice, ld, [0, lengths[s]], heads, headDim, [], alone, width, []);
            Assert.True(alone.AsSpan().SequenceEqual(packed.AsSpan(starts[s] * width, lengths[s] * width)), $"sequence {s}");
        }
    }

    [Fact]
    public void EveryKernelSetMatchesTheReference()
    {
        foreach (var isa in RunnableIsas())
        {
            WithIsa(isa, () =>
            {
                var rng = new Random(70 + (int)isa);
                int[] starts = [0, 13, 31];
                const int heads = 2, headDim = 24, width = heads * headDim;
                var (qkv, ld) = FusedQkv(rng, starts[^1], width, pad: 1);
                var mask = Mask(rng, starts[^1], 0.2);
                var expected = new float[starts[^1] * width];
                var actual = new float[starts[^1] * width];
                Run(reference: true, qkv, ld, starts, heads, headDim, mask, expected, width, []);
                Run(reference: false, qkv, ld, starts, heads, headDim, mask, actual, width, []);
                Approx.Equal(expected, actual, absTol: 1e-5, what: isa.ToString());
            });
        }
    }

    [Fact]
    public void RejectsInconsistentArguments()
    {
        var qkv = new float[10 * 24];
        var context = new float[10 * 8];
        void Call(int[] starts, float[] mask, float[] probs, int ldContext = 8, float[]? ctx = null) =>
            FusedAttention.Forward(qkv, qkv.AsSpan(8), qkv.AsSpan(16), 24, starts, 2, 4, 0.5f, mask, ctx ?? context, ldContext, probs);
        Assert.Equal("sequenceStarts", Assert.Throws<ArgumentException>(() => Call([0, 6, 4], [], [])).ParamName);
        Assert.Equal("sequenceStarts", Assert.Throws<ArgumentException>(() => Call([1, 6], [], [])).ParamName);
        Assert.Equal("additiveMask", Assert.Throws<ArgumentException>(() => Call([0, 10], new float[9], [])).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Call([0, 4, 10], [], new float[2 * 2 * 16])).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Call([0, 5, 10], [], new float[3])).ParamName);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => Call([0, 11], [], [])).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentException>(() => Call([0, 10], [], [], ctx: new float[70])).ParamName);
        Assert.Equal("ldContext", Assert.Throws<ArgumentException>(() => Call([0, 10], [], [], ldContext: 7)).ParamName);
    }
}
