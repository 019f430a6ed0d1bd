using Sharpformers.Kernels;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Nn.Tests;

/// <summary>The pre-packed inference form of the encoder layer against the layer's own (training) forward.</summary>
[Collection(InferenceCollection.Name)]
public sealed class InferenceEncoderLayerTests
{
    private static PostNormEncoderLayer Layer(int seed, int c, int heads, int inner, ActivationFunction activation = ActivationFunction.Gelu)
    {
        var builder = ParameterBuilder.ForInitialization(seed);
        var layer = new PostNormEncoderLayer(
            new Linear(builder.Prefix("q"), c, c, 0.3), new Linear(builder.Prefix("k"), c, c, 0.3), new Linear(builder.Prefix("v"), c, c, 0.3),
            new Linear(builder.Prefix("o"), c, c, 0.3), new LayerNorm(builder.Prefix("ln1"), c, 1e-12),
            new Linear(builder.Prefix("ff1"), c, inner, 0.3), activation, new Linear(builder.Prefix("ff2"), inner, c, 0.3),
            new LayerNorm(builder.Prefix("ln2"), c, 1e-12), heads);
        // Non-trivial biases and norms, so a dropped or doubled term shows.
        var rng = new Random(seed);
        foreach (var p in builder.Parameters)
        {
            if (p.Shape.Count == 1)
            {
                var span = p.Value.Span;
                for (int i = 0; i < span.Length; i++) span[i] += (float)(rng.NextDouble() - 0.5);
            }
        }
        return layer;
    }

    private static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Masked(int batch, int seq, int[] lengths)
    {
        var mask = new float[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < seq; t++)
                mask[b * seq + t] = float.MinValue;
        return mask;
    }

    private static float[] ReferenceForward(PostNormEncoderLayer layer, float[] input, int batch, int seq, float[] mask, out float[] probabilities)
    {
        var arena = new ActivationArena();
        var acts = new EncoderLayerActivations(arena, batch, seq, layer.HiddenSize, layer.NumHeads, layer.IntermediateSize, keepForBackward: true)
        {
            Input = (float[])input.Clone(),
        };
        layer.Forward(acts, mask);
        probabilities = acts.AttentionProbs.ToArray();
        return acts.Output.ToArray();
    }

    [Theory]
    [InlineData(48, 4, 96, 2, 7, ActivationFunction.Gelu)]
    [InlineData(12, 3, 20, 3, 5, ActivationFunction.GeluTanh)]
    [InlineData(64, 2, 100, 1, 33, ActivationFunction.Relu)]
    [InlineData(96, 6, 384, 4, 17, ActivationFunction.Gelu)]
    public void PaddedBatchEqualsTheLayerForwardBitForBit(int c, int heads, int inner, int batch, int seq, ActivationFunction activation)
    {
        var layer = Layer(c + heads, c, heads, inner, activation);
        var input = Random(batch * seq * c, 3);
        var lengths = Enumerable.Range(0, batch).Select(b => Math.Max(1, seq - 2 * b)).ToArray();
        var mask = Masked(batch, seq, lengths);
        var expected = ReferenceForward(layer, input, batch, seq, mask, out var expectedProbs);
        foreach (int threads in new[] { 1, 2 })
        {
            var hidden = (float[])input.Clone();
            var probs = new float[batch * heads * seq * seq];
            WithThreads(threads, () =>
            {
                var arena = new ActivationArena();
                var buffers = new EncoderInferenceBuffers(arena, batch * seq, c, inner);
                InferenceEncoderLayer.For(layer).Forward(InferencePrecision.Float32, InferenceBatch.Padded(batch, seq, mask), hidden, buffers, probs);
            });
            // seq > 4 keeps the layer's own products off the few-rows dot-product path, so every sum
            // is taken in the same order: the results are identical.
            Assert.True(expected.AsSpan().SequenceEqual(hidden), $"{threads} thread(s): output differs from the layer's forward");
            Assert.True(expectedProbs.AsSpan().SequenceEqual(probs), $"{threads} thread(s): attention weights differ");
        }
    }

    [Fact]
    public void PaddingFreeRowsEqualThePaddedBatchOnRealTokens()
    {
        const int c = 48, heads = 4, inner = 96, batch = 3, seq = 11;
        var layer = Layer(7, c, heads, inner);
        int[] lengths = [11, 4, 8];
        var padded = Random(batch * seq * c, 5);
        var mask = Masked(batch, seq, lengths);
        var expected = ReferenceForward(layer, padded, batch, seq, mask, out _);
        var starts = new int[batch + 1];
        for (int b = 0; b < batch; b++) starts[b + 1] = starts[b] + lengths[b];
        var packed = new float[starts[^1] * c];
        for (int b = 0; b < batch; b++) padded.AsSpan(b * seq * c, lengths[b] * c).CopyTo(packed.AsSpan(starts[b] * c));
        var arena = new ActivationArena();
        InferenceEncoderLayer.For(layer).Forward(InferencePrecision.Float32, new InferenceBatch(starts, ReadOnlyMemory<float>.Empty), packed,
            new EncoderInferenceBuffers(arena, starts[^1], c, inner), Memory<float>.Empty);
        for (int b = 0; b < batch; b++)
        {
            // Masked keys add exact zeros in the padded softmax; only the summation grouping differs.
            Approx.Equal(expected.AsSpan(b * seq * c, lengths[b] * c), packed.AsSpan(starts[b] * c, lengths[b] * c), absTol: 2e-6, what: $"sequence {b}");
        }
    }

    [Fact]
    public void Int8StaysCloseToFloat32()
    {
        const int c = 96, heads = 4, inner = 384, batch = 2, seq = 16;
        var layer = Layer(11, c, heads, inner);
        var input = Random(batch * seq * c, 8);
        float[] Run(InferencePrecision precision)
        {
            var hidden = (float[])input.Clone();
            var arena = new ActivationArena();
            InferenceEncoderLayer.For(layer).Forward(precision, InferenceBatch.Padded(batch, seq, ReadOnlyMemory<float>.Empty), hidden,
                new EncoderInferenceBuffers(arena, batch * seq, c, inner), Memory<float>.Empty);
            return hidden;
        }
        var f32 = Run(InferencePrecision.Float32);
        var i8 = Run(InferencePrecision.Int8);
        // The output is LayerNorm'd (unit scale per row). Four chained products with int8 weights per
        // channel and 7-bit activation codes (~1% error each on these random std-0.3 weights, whose
        // attention is nearly one-hot and so sensitive) move it by a few % RMS (measured 3.3%); stated
        // tolerance: under 5%.
        double squared = 0;
        for (int i = 0; i < f32.Length; i++) squared += Math.Pow(f32[i] - i8[i], 2);
        double rms = Math.Sqrt(squared / f32.Length);
        Assert.True(rms > 1e-4 && rms < 0.05, $"RMS difference {rms:E3}, max {Approx.MaxAbsDiff(f32, i8):E3}");
        Assert.True(f32.AsSpan().SequenceEqual(Run(InferencePrecision.Float32)), "switching precision back must give the float32 result again");
    }

    [Fact]
    public void PackedWeightsFollowChangesToTheWeights()
    {
        const int c = 24, heads = 2, inner = 40, seq = 6;
        var layer = Layer(21, c, heads, inner);
        var input = Random(seq * c, 1);
        float[] Run()
        {
            var hidden = (float[])input.Clone();
            InferenceEncoderLayer.For(layer).Forward(InferencePrecision.Float32, InferenceBatch.Padded(1, seq, ReadOnlyMemory<float>.Empty), hidden,
                new EncoderInferenceBuffers(new ActivationArena(), seq, c, inner), Memory<float>.Empty);
            return hidden;
        }
        var before = Run();
        // The first pass multiplies straight from the weights; the second packs them (same bits).
        Assert.Equal(0, InferenceEncoderLayer.For(layer).PackedBytes);
        Assert.Equal(before, Run());
        Assert.True(InferenceEncoderLayer.For(layer).PackedBytes > 0);

        // Assign a new tensor: repacked.
        var weight = layer.Intermediate.Weight;
        weight.Assign(new Tensor(weight.Value.Span.ToArray().Select(v => v * 2).ToArray(), inner, c));
        var afterAssign = Run();
        Assert.False(before.AsSpan().SequenceEqual(afterAssign));
        Assert.Equal(ReferenceForward(layer, input, 1, seq, [], out _), afterAssign);

        // Write in place and say so: repacked.
        layer.Value.Weight.Value.Span[3] += 1f;
        layer.Value.Weight.MarkModified();
        Assert.Equal(ReferenceForward(layer, input, 1, seq, [], out _), Run());

        // A weight with a gradient buffer is being trained: every pass reads its current values.
        layer.Output.Weight.Grad = Tensor.Zeros(c, inner);
        layer.Output.Weight.Value.Span[0] -= 0.5f;
        Assert.Equal(ReferenceForward(layer, input, 1, seq, [], out _), Run());
        layer.Output.Weight.Value.Span[1] += 0.5f;
        Assert.Equal(ReferenceForward(layer, input, 1, seq, [], out _), Run());
    }

    [Fact]
    public void AForwardAllocatesNothingOnceWarm()
    {
        const int c = 48, heads = 4, inner = 96, seq = 9;
        var layer = Layer(2, c, heads, inner);
        var hidden = Random(2 * seq * c, 4);
        var arena = new ActivationArena();
        var batch = InferenceBatch.Padded(2, seq, Masked(2, seq, [9, 5]));
        var buffers = new EncoderInferenceBuffers(arena, 2 * seq, c, inner);
        WithThreads(1, () =>
        {
            var inference = InferenceEncoderLayer.For(layer);
            for (int i = 0; i < 3; i++) inference.Forward(InferencePrecision.Float32, batch, hidden, buffers, Memory<float>.Empty);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) inference.Forward(InferencePrecision.Float32, batch, hidden, buffers, Memory<float>.Empty);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            for (int i = 0; i < 3; i++) inference.Forward(InferencePrecision.Int8, batch, hidden, buffers, Memory<float>.Empty);
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) inference.Forward(InferencePrecision.Int8, batch, hidden, buffers, Memory<float>.Empty);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
    }

    private static void WithThreads(int threads, Action body)
    {
        int saved = KernelParallel.MaxThreads;
        KernelParallel.MaxThreads = threads;
        try
        {
            body();
        }
        finally
        {
            KernelParallel.MaxThreads = saved;
        }
    }
}

/// <summary>Tests that change the kernel thread count run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InferenceCollection
{
    public const string Name = "Inference threading";
}
