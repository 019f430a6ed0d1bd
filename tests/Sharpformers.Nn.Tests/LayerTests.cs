using Sharpformers.Kernels;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Nn.Tests;

public sealed class LayerTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Fact]
    public void LinearIsXTimesWTransposedPlusBias()
    {
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var linear = new Linear(builder.Prefix("dense"), inFeatures: 5, outFeatures: 3, initStd: 0.5);
        Assert.Equal(["dense.weight", "dense.bias"], builder.Parameters.Select(p => p.Name));
        linear.Bias!.Value.Span[1] = 0.25f;
        var x = Random(2 * 5, seed: 2);
        var y = new float[2 * 3];
        linear.Forward(x, y);
        var w = linear.Weight.Value.Span;
        for (int r = 0; r < 2; r++)
        {
            for (int o = 0; o < 3; o++)
            {
                double expected = linear.Bias.Value.Span[o];
                for (int i = 0; i < 5; i++) expected += x[r * 5 + i] * w[o * 5 + i];
                Assert.True(Math.Abs(expected - y[r * 3 + o]) < 1e-5);
            }
        }
        var ex = Assert.Throws<ArgumentException>(() => linear.Forward(new float[7], new float[3]));
        Assert.Contains("not a whole number of rows of 5", ex.Message);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 5, 3, 7)]
    [InlineData(3, 17, 2, 16)]
    public void AttentionMatchesANaiveReference(int batch, int seq, int heads, int headDim)
    {
        int c = heads * headDim;
        var q = Random(batch * seq * c, 1);
        var k = Random(batch * seq * c, 2);
        var v = Random(batch * seq * c, 3);
        var attentionMask = new int[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
                attentionMask[b * seq + t] = t < seq - b ? 1 : 0; // sequence b has b padded positions
        var additive = new float[batch * seq];
        MultiHeadAttention.AdditiveMask(attentionMask, additive);
        var probs = new float[batch * heads * seq * seq];
        var context = new float[batch * seq * c];
        float scale = 1f / MathF.Sqrt(headDim);
        MultiHeadAttention.Forward(q, k, v, batch, seq, heads, headDim, scale, additive, probs, context);

        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < seq; i++)
                {
                    var scores = new double[seq];
                    for (int j = 0; j < seq; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += q[(b * seq + i) * c + h * headDim + d] * k[(b * seq + j) * c + h * headDim + d];
                        scores[j] = attentionMask[b * seq + j] == 1 ? dot * scale : double.NegativeInfinity;
                    }
                    double max = scores.Max();
                    double sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j < seq; j++)
                    {
                        double p = Math.Exp(scores[j] - max) / sum;
                        Assert.True(Math.Abs(p - probs[((b * heads + h) * seq + i) * seq + j]) < 1e-6, $"probs b{b} h{h} i{i} j{j}");
                    }
                    for (int d = 0; d < headDim; d++)
                    {
                        double expected = 0;
                        for (int j = 0; j < seq; j++) expected += Math.Exp(scores[j] - max) / sum * v[(b * seq + j) * c + h * headDim + d];
                        Assert.True(Math.Abs(expected - context[(b * seq + i) * c + h * headDim + d]) < 1e-5, $"context b{b} h{h} i{i} d{d}");
                    }
                }
            }
        }
    }

    [Fact]
    public void EncoderLayerGivesTheSameOutputWhetherOrNotItKeepsActivations()
    {
        var builder = ParameterBuilder.ForInitialization(seed: 5);
        int c = 12, heads = 3, inner = 20;
        var layer = new PostNormEncoderLayer(
            new Linear(builder.Prefix("q"), c, c, 0.3), new Linear(builder.Prefix("k"), c, c, 0.3), new Linear(builder.Prefix("v"), c, c, 0.3),
            new Linear(builder.Prefix("o"), c, c, 0.3), new LayerNorm(builder.Prefix("ln1"), c, 1e-12),
            new Linear(builder.Prefix("ff1"), c, inner, 0.3), ActivationFunction.Gelu, new Linear(builder.Prefix("ff2"), inner, c, 0.3),
            new LayerNorm(builder.Prefix("ln2"), c, 1e-12), heads);
        int batch = 2, seq = 5;
        var input = Random(batch * seq * c, 9);
        float[] Run(bool keep)
        {
            var arena = new ActivationArena();
            var acts = new EncoderLayerActivations(arena, batch, seq, c, heads, inner, keep) { Input = (float[])input.Clone() };
            if (!keep) acts.Output = new float[batch * seq * c];
            layer.Forward(acts, ReadOnlyMemory<float>.Empty);
            if (keep)
            {
                // What backward will need is all there, in distinct buffers.
                Assert.Equal(batch * seq, acts.AttentionNormRstd.Length);
                Assert.False(acts.IntermediatePre.Span.Overlaps(acts.IntermediateAct.Span));
                var expectedAct = new float[acts.IntermediatePre.Length];
                Activations.Gelu(acts.IntermediatePre.Span, expectedAct);
                Assert.Equal(expectedAct, acts.IntermediateAct.ToArray());
            }
            return acts.Output.ToArray();
        }
        Assert.Equal(Run(keep: true), Run(keep: false));
    }

    [Fact]
    public void ArenaStopsAllocatingOnceItHasSeenAPass()
    {
        var arena = new ActivationArena();
        var first = arena.Take(100);
        arena.Take(17);
        arena.Reset();
        Assert.True(arena.Capacity >= 117);
        var a = arena.Take(100);
        var b = arena.Take(17);
        Assert.False(a.Span.Overlaps(b.Span));
        Assert.Equal(100, a.Length);
        Assert.Equal(100, first.Length);
    }

    [Fact]
    public void RowParallelCoversEveryRowOnce()
    {
        var counts = new int[100_003];
        RowParallel.For(counts.Length, 3, (start, count) =>
        {
            for (int i = start; i < start + count; i++) Interlocked.Increment(ref counts[i]);
        });
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void LossesMatchTorchDefinitions()
    {
        Assert.Equal(Math.Log(2), Losses.CrossEntropy([0f, 0f], 2, [1]), 6);
        Assert.True(float.IsNaN(Losses.CrossEntropy([0f, 0f], 2, [Losses.IgnoreIndex])));
        Assert.Equal(2.5, Losses.MeanSquaredError([1f, 3f], [0f, 1f]), 6);
        Assert.Equal(Math.Log(2), Losses.BinaryCrossEntropyWithLogits([0f], [1f]), 6);
        // Stable for large logits (no exp overflow): BCE(100, 0) = 100.
        Assert.Equal(100, Losses.BinaryCrossEntropyWithLogits([100f], [0f]), 3);
    }

    [Fact]
    public void NormalSamplerHasTheRightMomentsAndIsSeeded()
    {
        var a = new float[20000];
        new NormalSampler(seed: 1).Fill(a, std: 2);
        var b = new float[20000];
        new NormalSampler(seed: 1).Fill(b, std: 2);
        Assert.Equal(a, b);
        Assert.InRange(a.Average(), -0.05, 0.05);
        Assert.InRange(Math.Sqrt(a.Average(x => (double)x * x)), 1.95, 2.05);
    }

    [Fact]
    public void CheckpointNamesMapThroughTheBasePrefix()
    {
        // A checkpoint without "bert." loaded into a model that has it (and the reverse) finds its weights.
        var path = Path.Combine(Path.GetTempPath(), $"nn-{Guid.NewGuid():N}.safetensors");
        try
        {
            Sharpformers.Tensors.Formats.SafetensorsWriter.Write(path, new Dictionary<string, Tensor>
            {
                ["embeddings.LayerNorm.gamma"] = Tensor.Full(2f, 4),
                ["embeddings.LayerNorm.beta"] = Tensor.Full(3f, 4),
                ["extra.weight"] = Tensor.Zeros(1),
            });
            using var reader = Sharpformers.Tensors.Formats.SafetensorsReader.Open(path);
            var builder = ParameterBuilder.ForCheckpoint(reader, new LoadingOptions { BaseModelPrefix = "bert", ModelUsesPrefix = true, Seed = 0 });
            var norm = new LayerNorm(builder.Prefix("bert").Prefix("embeddings").Prefix("LayerNorm"), 4, 1e-12);
            var head = new Linear(builder.Prefix("classifier"), 4, 2, 0.02);
            var report = builder.Finish("Model");
            Assert.Equal([2f, 2f, 2f, 2f], norm.Weight.Value.ToArray());
            Assert.Equal([3f, 3f, 3f, 3f], norm.Bias.Value.ToArray());
            Assert.Equal(["classifier.bias", "classifier.weight"], report.MissingKeys);
            Assert.Equal(["extra.weight"], report.UnexpectedKeys);
            Assert.Equal(2 * 4, head.Weight.Value.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
