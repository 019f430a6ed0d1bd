using Sharpformers.TestSupport;
using Sharpformers.Utils;
using static Sharpformers.TestSupport.DoubleReference;

namespace Sharpformers.Nn.Tests;

/// <summary>
/// Every layer's float32 backward against central differences of its forward recomputed in float64
/// (<see cref="DoubleReference"/>), on small awkward shapes with padding masks and dropout.
/// Each check differentiates L = Σ u ∘ y for a random u, so the upstream gradient is u.
/// </summary>
public sealed class GradientCheckTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>Replaces every parameter with random values (so no bias is 0 and no LayerNorm weight is 1) and gives it a gradient buffer.</summary>
    private static ParameterCollection Randomise(ParameterBuilder builder, int seed)
    {
        var parameters = builder.Parameters;
        int i = 0;
        foreach (var p in parameters)
        {
            var values = Random(p.Value.Length, seed + i++, 0.5f);
            if (p.Name.EndsWith("LayerNorm.weight", StringComparison.Ordinal) || p.Name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                for (int j = 0; j < values.Length; j++) values[j] += 1f;
            }
            values.CopyTo(p.Value.Span);
        }
        parameters.AllocateGradients();
        return parameters;
    }

    [Fact]
    public void LinearGradientsForInputWeightAndBias()
    {
        const int rows = 7, inF = 9, outF = 5;
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var linear = new Linear(builder.Prefix("dense"), inF, outF, initStd: 0.5);
        Randomise(builder, 10);
        var x = Random(rows * inF, 2);
        var u = Random(rows * outF, 3);
        var y = new float[rows * outF];
        linear.Forward(x, y);
        var dx = new float[x.Length];
        linear.Backward(x, u, dx);

        double[] xd = ToDouble(x), w = ToDouble(linear.Weight.Value.Span), b = ToDouble(linear.Bias!.Value.Span), ud = ToDouble(u);
        double Loss() => Dot(ud, DoubleReference.Linear(xd, w, b, inF, outF));
        GradientCheck.Check("dx", xd, Loss, dx);
        GradientCheck.Check("dW", w, Loss, linear.Weight.Grad!.Span);
        GradientCheck.Check("db", b, Loss, linear.Bias.Grad!.Span);

        // Parameter gradients accumulate across calls; the input gradient can be accumulated too.
        var firstW = linear.Weight.Grad.Span.ToArray();
        var dxAcc = Enumerable.Repeat(1f, x.Length).ToArray();
        linear.Backward(x, u, dxAcc, accumulateInputGradient: true);
        Approx.Equal(firstW.Select(v => 2 * v).ToArray(), linear.Weight.Grad.Span, 1e-6, 1e-6, "dW after two backward passes");
        Approx.Equal(dx.Select(v => v + 1).ToArray(), dxAcc, 1e-6, 0, "accumulated dx");
        // An empty dx skips the input gradient.
        linear.Backward(x, u, Memory<float>.Empty);
    }

    [Theory]
    [InlineData(6, 19, 1e-12)]
    [InlineData(70, 33, 1e-5)]   // several 32-row partial blocks
    public void LayerNormGradients(int rows, int cols, double eps)
    {
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var norm = new LayerNorm(builder.Prefix("LayerNorm"), cols, eps);
        Randomise(builder, 20);
        var x = Random(rows * cols, 4, 3f);
        var u = Random(rows * cols, 5);
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        norm.Forward(x, y, mean, rstd);
        var dx = new float[x.Length];
        norm.Backward(x, mean, rstd, u, dx, new ActivationArena());

        double[] xd = ToDouble(x), w = ToDouble(norm.Weight.Value.Span), b = ToDouble(norm.Bias.Value.Span), ud = ToDouble(u);
        double Loss() => Dot(ud, DoubleReference.LayerNorm(xd, w, b, eps));
        GradientCheck.Check("dx", xd, Loss, dx);
        GradientCheck.Check("dWeight", w, Loss, norm.Weight.Grad!.Span);
        GradientCheck.Check("dBias", b, Loss, norm.Bias.Grad!.Span);
    }

    [Fact]
    public void EmbeddingScatterAddSkipsThePaddingRowAndFrozenTables()
    {
        const int vocab = 10, dim = 20;
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var words = new Embedding(builder.Prefix("word_embeddings"), vocab, dim, ParameterInit.Normal(1), paddingIdx: 0);
        var frozen = new Embedding(builder.Prefix("position_embeddings"), vocab, dim, ParameterInit.Normal(1), requiresGrad: false);
        Randomise(builder, 30);
        Assert.Null(frozen.Weight.Grad);
        int[] ids = [3, 0, 3, 9, 0, 5, 3];
        var u = Random(ids.Length * dim, 6);
        words.Backward(ids, u);
        frozen.Backward(ids, u); // no gradient buffer: nothing to do

        var table = ToDouble(words.Weight.Value.Span);
        var ud = ToDouble(u);
        // torch's padding_idx: the padding row is a constant of the model (it gets no gradient even where it was looked up).
        double Loss()
        {
            double sum = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] == 0) continue;
                for (int c = 0; c < dim; c++) sum += ud[i * dim + c] * table[ids[i] * dim + c];
            }
            return sum;
        }
        GradientCheck.Check("dTable", table, Loss, words.Weight.Grad!.Span, maxEntries: table.Length);
        Assert.All(words.Weight.Grad.Span[..dim].ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(u[0] + u[2 * dim] + u[6 * dim], words.Weight.Grad.Span[3 * dim], 5);
    }

    [Fact]
    public void TiedDecoderAddsItsGradientToTheEmbeddingTable()
    {
        // A masked-LM decoder tied to the word embeddings: logits = E[ids] · Eᵀ + b; the table's gradient is the sum of both uses.
        const int vocab = 9, dim = 6;
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var words = new Embedding(builder.Prefix("word_embeddings"), vocab, dim, ParameterInit.Normal(1));
        var bias = builder.Get("decoder_bias", [vocab], ParameterInit.Zeros);
        Randomise(builder, 60);
        var decoder = new Linear(words.Weight, bias);
        Assert.Equal((vocab, dim), (decoder.OutFeatures, decoder.InFeatures));
        int[] ids = [4, 1, 4, 8];
        var hidden = new float[ids.Length * dim];
        words.Forward(ids, hidden);
        var logits = new float[ids.Length * vocab];
        decoder.Forward(hidden, logits);
        var u = Random(logits.Length, 61);
        var dHidden = new float[hidden.Length];
        decoder.Backward(hidden, u, dHidden);
        words.Backward(ids, dHidden);

        var table = ToDouble(words.Weight.Value.Span);
        var b = ToDouble(bias.Value.Span);
        var ud = ToDouble(u);
        double Loss()
        {
            var h = new double[ids.Length * dim];
            for (int i = 0; i < ids.Length; i++) Array.Copy(table, ids[i] * dim, h, i * dim, dim);
            return Dot(ud, DoubleReference.Linear(h, table, b, dim, vocab));
        }
        GradientCheck.Check("dTable (embedding + decoder)", table, Loss, words.Weight.Grad!.Span, maxEntries: table.Length);
        GradientCheck.Check("dBias", b, Loss, bias.Grad!.Span);
    }

    [Theory]
    [InlineData(ActivationFunction.Gelu, "gelu")]
    [InlineData(ActivationFunction.GeluTanh, "gelu_new")]
    [InlineData(ActivationFunction.Relu, "relu")]
    [InlineData(ActivationFunction.Tanh, "tanh")]
    [InlineData(ActivationFunction.Sigmoid, "sigmoid")]
    [InlineData(ActivationFunction.Silu, "silu")]
    [InlineData(ActivationFunction.QuickGelu, "quick_gelu")]
    [InlineData(ActivationFunction.Linear, "linear")]
    public void ActivationGradients(ActivationFunction function, string name)
    {
        var x = Random(101, 7, 4f);
        var u = Random(101, 8);
        var dx = new float[x.Length];
        function.Backward(x, u, dx);
        var xd = ToDouble(x);
        var ud = ToDouble(u);
        GradientCheck.Check(name, xd, () => Dot(ud, Map(xd, v => DoubleReference.Activation(name, v))), dx, maxEntries: 101);
    }

    [Fact]
    public void DropoutGradientUsesTheForwardMask()
    {
        var dropout = new Dropout(0.3);
        var x = Random(300, 9);
        var u = Random(300, 10);
        var keep = new byte[300];
        var y = new float[300];
        dropout.Forward(x, keep, y, new SeededRandom(5));
        Assert.InRange(keep.Count(k => k == 0), 60, 120);
        var dx = new float[300];
        dropout.Backward(u, keep, dx);
        var xd = ToDouble(x);
        var ud = ToDouble(u);
        GradientCheck.Check("dx", xd, () => Dot(ud, DoubleReference.Dropout(xd, keep, 0.3)), dx, maxEntries: 300);
        // The same generator state gives the same mask; the generator advances by one draw per site.
        var again = new byte[300];
        var random = new SeededRandom(5);
        dropout.Forward(x, again, new float[300], random);
        Assert.Equal(keep, again);
        var afterOne = new SeededRandom(5);
        afterOne.NextUInt64();
        Assert.Equal(afterOne.SaveState().Words, random.SaveState().Words);
    }

    /// <summary>
    /// Attention splits work by sequence when there are at least as many sequences as threads, else
    /// inside each product; the thread count picks the path here (results do not depend on it).
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 64)]
    [InlineData(true, 64)]
    public void AttentionGradientsWithPaddingAndDropout(bool withDropout, int threads)
    {
        int saved = Kernels.KernelParallel.MaxThreads;
        Kernels.KernelParallel.MaxThreads = threads;
        try
        {
            AttentionGradients(withDropout);
        }
        finally
        {
            Kernels.KernelParallel.MaxThreads = saved;
        }
    }

    private static void AttentionGradients(bool withDropout)
    {
        const int batch = 2, seq = 6, heads = 2, headDim = 4, c = heads * headDim;
        var q = Random(batch * seq * c, 11);
        var k = Random(batch * seq * c, 12);
        var v = Random(batch * seq * c, 13);
        int[] attentionMask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
        var additive = new float[batch * seq];
        MultiHeadAttention.AdditiveMask(attentionMask, additive);
        int bhtt = batch * heads * seq * seq;
        var probs = new float[bhtt];
        var dropped = new float[bhtt];
        var keep = new byte[bhtt];
        var context = new float[batch * seq * c];
        var dropout = new Dropout(withDropout ? 0.25 : 0);
        float scale = 1f / MathF.Sqrt(headDim);
        MultiHeadAttention.Forward(q, k, v, batch, seq, heads, headDim, scale, additive, probs, context,
            dropout, keep, dropped, withDropout ? new SeededRandom(3) : null);
        var u = Random(context.Length, 14);
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[v.Length];
        MultiHeadAttention.Backward(q, k, v, batch, seq, heads, headDim, scale,
            probs, withDropout ? dropped : probs, withDropout ? dropout : null, withDropout ? keep : Memory<byte>.Empty,
            u, new float[bhtt], dq, dk, dv);

        double[] qd = ToDouble(q), kd = ToDouble(k), vd = ToDouble(v), ud = ToDouble(u);
        double Loss() => Dot(ud, DoubleReference.Attention(qd, kd, vd, batch, seq, heads, attentionMask, withDropout ? keep : null, 0.25));
        Approx.Equal(DoubleReference.Attention(qd, kd, vd, batch, seq, heads, attentionMask, withDropout ? keep : null, 0.25).Select(d => (float)d).ToArray(),
            context, 1e-5, 1e-5, "context");
        GradientCheck.Check("dQ", qd, Loss, dq, maxEntries: 100);
        GradientCheck.Check("dK", kd, Loss, dk, maxEntries: 100);
        GradientCheck.Check("dV", vd, Loss, dv, maxEntries: 100);
        // Padded keys get nothing: their K and V rows have zero gradient.
        for (int t = 3; t < seq; t++)
            for (int e = 0; e < c; e++)
            {
                Assert.Equal(0f, dk[(seq + t) * c + e]);
                Assert.Equal(0f, dv[(seq + t) * c + e]);
            }
    }

    public static IEnumerable<object[]> EncoderCases() =>
    [
        ["gelu", ActivationFunction.Gelu, false],
        ["gelu", ActivationFunction.Gelu, true],
        ["gelu_new", ActivationFunction.GeluTanh, true],
        ["relu", ActivationFunction.Relu, false],
    ];

    [Theory]
    [MemberData(nameof(EncoderCases))]
    public void EncoderLayerGradientsForInputAndEveryParameter(string activationName, ActivationFunction activation, bool withDropout)
    {
        const int batch = 2, seq = 5, hidden = 8, heads = 2, inter = 11;
        const double eps = 1e-12;
        var builder = ParameterBuilder.ForInitialization(seed: 3);
        Linear L(string name, int i, int o) => new(builder.Prefix(name), i, o, 0.5);
        var layer = new PostNormEncoderLayer(L("q", hidden, hidden), L("k", hidden, hidden), L("v", hidden, hidden), L("o", hidden, hidden),
            new LayerNorm(builder.Prefix("ln1"), hidden, eps), L("ffn1", hidden, inter), activation, L("ffn2", inter, hidden),
            new LayerNorm(builder.Prefix("ln2"), hidden, eps), heads,
            withDropout ? new EncoderLayerDropout(0.2, 0.15, 0.1) : null);
        var parameters = Randomise(builder, 40);
        int[] attentionMask = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
        var additive = new float[batch * seq];
        MultiHeadAttention.AdditiveMask(attentionMask, additive);
        var arena = new ActivationArena();
        var a = new EncoderLayerActivations(arena, batch, seq, hidden, heads, inter, keepForBackward: true, withDropout: withDropout);
        var x = Random(batch * seq * hidden, 15, 2f);
        x.CopyTo(a.Input = arena.Take(x.Length));
        layer.Forward(a, additive, withDropout ? new SeededRandom(11) : null);
        Assert.Equal(withDropout, a.DropoutApplied);
        var u = Random(x.Length, 16);
        var dInput = new float[x.Length];
        var g = new EncoderLayerGradients(arena, batch, seq, hidden, heads, inter);
        layer.Backward(a, g, u, dInput);

        var weights = new EncoderLayerWeights();
        foreach (var p in parameters) weights[p.Name] = ToDouble(p.Value.Span);
        var masks = withDropout
            ? new EncoderLayerMasks(a.AttentionDropoutKeep.ToArray(), 0.2, a.AttentionOutputDropoutKeep.ToArray(), 0.15, a.OutputDropoutKeep.ToArray(), 0.1)
            : null;
        var xd = ToDouble(x);
        var ud = ToDouble(u);
        double Loss() => Dot(ud, DoubleReference.EncoderLayer(xd, weights, batch, seq, heads, activationName, eps, attentionMask, masks));
        Approx.Equal(DoubleReference.EncoderLayer(xd, weights, batch, seq, heads, activationName, eps, attentionMask, masks).Select(d => (float)d).ToArray(),
            a.Output.Span, 2e-5, 2e-5, "forward");
        GradientCheck.Check("dInput", xd, Loss, dInput, rel: 2e-4, abs: 2e-5, maxEntries: 80);
        foreach (var p in parameters)
        {
            GradientCheck.Check(p.Name, weights[p.Name], Loss, p.Grad!.Span, rel: 2e-4, abs: 2e-5, maxEntries: 30);
        }
    }

    [Fact]
    public void LossGradients()
    {
        var logits = Random(5 * 3, 17, 3f);
        int[] labels = [2, -100, 0, 1, 1];
        var d = new float[logits.Length];
        Losses.CrossEntropyBackward(logits, 3, labels, 0.5f, d);
        var ld = ToDouble(logits);
        GradientCheck.Check("cross-entropy", ld, () => 0.5 * CrossEntropy(ld, 3, labels), d, maxEntries: 15);
        Assert.All(d[3..6], v => Assert.Equal(0f, v));   // the ignored row
        Assert.Equal(Losses.CrossEntropy(logits, 3, labels), CrossEntropy(ld, 3, labels), 6);

        var targets = Random(15, 18);
        Losses.MeanSquaredErrorBackward(logits, targets, 1f, d);
        var td = ToDouble(targets);
        GradientCheck.Check("MSE", ld, () => MeanSquaredError(ld, td), d, maxEntries: 15);

        var multiHot = Random(15, 19).Select(v => v > 0 ? 1f : 0f).ToArray();
        Losses.BinaryCrossEntropyWithLogitsBackward(logits, multiHot, 2f, d);
        var md = ToDouble(multiHot);
        GradientCheck.Check("BCE with logits", ld, () => 2 * BinaryCrossEntropyWithLogits(ld, md), d, maxEntries: 15);
    }

    [Fact]
    public void PoolerTanhBackwardFromItsOutput()
    {
        // BERT's pooler: pooled = tanh(W·h₀ + b), differentiated from the kept output.
        const int batch = 3, hidden = 6;
        var builder = ParameterBuilder.ForInitialization(seed: 1);
        var dense = new Linear(builder.Prefix("pooler"), hidden, hidden, 0.5);
        Randomise(builder, 50);
        var h = Random(batch * hidden, 20, 2f);
        var pooled = new float[batch * hidden];
        dense.Forward(h, pooled);
        Kernels.Activations.Tanh(pooled, pooled);
        var u = Random(pooled.Length, 21);
        var dPre = new float[pooled.Length];
        Kernels.ActivationsBackward.TanhFromOutput(pooled, u, dPre);
        var dh = new float[h.Length];
        dense.Backward(h, dPre, dh);
        double[] hd = ToDouble(h), w = ToDouble(dense.Weight.Value.Span), b = ToDouble(dense.Bias!.Value.Span), ud = ToDouble(u);
        double Loss() => Dot(ud, Map(DoubleReference.Linear(hd, w, b, hidden, hidden), Math.Tanh));
        GradientCheck.Check("dh", hd, Loss, dh);
        GradientCheck.Check("dW", w, Loss, dense.Weight.Grad!.Span);
        GradientCheck.Check("db", b, Loss, dense.Bias.Grad!.Span);
    }
}
