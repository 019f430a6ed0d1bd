using Sharpformers.Kernels;
using Sharpformers.Models.Bert;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;
using Sharpformers.Utils;
using static Sharpformers.TestSupport.DoubleReference;

namespace Sharpformers.Models.Tests;

/// <summary>
/// Whole models — embeddings, every block, pooler / pre_classifier, classifier, each loss — with
/// dropout active, padding and token types: the float32 backward against central differences of the
/// model recomputed in float64. The dropout masks are rebuilt from the documented stream (one seed
/// per active dropout, drawn in forward order: embeddings, then per block attention weights,
/// attention output, FFN output, then the head).
/// </summary>
public sealed class ModelGradientCheckTests
{
    private const int Batch = 3, Seq = 6;
    private static readonly int[] Mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0];

    private static void Randomise(PreTrainedModel model, int seed)
    {
        var rng = new Random(seed);
        foreach (var p in model.Parameters)
        {
            bool norm = p.Name.Contains("LayerNorm.weight", StringComparison.Ordinal) || p.Name.Contains("layer_norm.weight", StringComparison.Ordinal);
            var span = p.Value.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)((rng.NextDouble() * 2 - 1) * 0.5 + (norm ? 1 : 0));
        }
        // The padding row is zero in HF's init; keep it so, since it never receives a gradient.
    }

    private static ModelInputs Inputs(int vocab, bool withTypes)
    {
        var rng = new Random(5);
        var ids = Enumerable.Range(0, Batch * Seq).Select(i => Mask[i] == 1 ? 1 + rng.Next(vocab - 1) : 0).ToArray();
        ids[0] = ids[7]; // a repeated id accumulates twice into one row
        var types = Enumerable.Range(0, Batch * Seq).Select(i => Mask[i] == 1 && i % Seq >= 3 ? 1 : 0).ToArray();
        return new ModelInputs
        {
            InputIds = IntTensor.FromArray(ids, Batch, Seq),
            AttentionMask = IntTensor.FromArray(Mask, Batch, Seq),
            TokenTypeIds = withTypes ? IntTensor.FromArray(types, Batch, Seq) : null,
        };
    }

    /// <summary>The masks the model drew, rebuilt from the generator: one seed per active site, in forward order.</summary>
    private sealed class MaskReplay(ulong seed)
    {
        private readonly SeededRandom random = new(seed);

        public byte[]? Next(double p, int length)
        {
            if (p <= 0) return null;
            var keep = new byte[length];
            DropoutMask.Draw(random.NextUInt64(), 0, (float)p, keep);
            return keep;
        }
    }

    private static double[] Param(PreTrainedModel model, Dictionary<string, double[]> values, string name) =>
        values.TryGetValue(name, out var v) ? v : values[name] = ToDouble(model.Parameters[name].Value.Span);

    private static double[] Embed(double[] table, int[] ids, int dim)
    {
        var result = new double[ids.Length * dim];
        for (int i = 0; i < ids.Length; i++) Array.Copy(table, ids[i] * dim, result, i * dim, dim);
        return result;
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    private static double[] FirstTokens(double[] hidden, int dim)
    {
        var first = new double[Batch * dim];
        for (int b = 0; b < Batch; b++) Array.Copy(hidden, b * Seq * dim, first, b * dim, dim);
        return first;
    }

    private static EncoderLayerWeights LayerWeights(Func<string, double[]> get, string prefix, string[] names)
    {
        var w = new EncoderLayerWeights();
        for (int i = 0; i < EncoderLayerWeights.Roles.Length; i++) w[EncoderLayerWeights.Roles[i]] = get(prefix + names[i]);
        return w;
    }

    private static readonly string[] BertLayerNames =
    [
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
    ];

    private static readonly string[] DistilBertLayerNames =
    [
        "attention.q_lin.weight", "attention.q_lin.bias", "attention.k_lin.weight", "attention.k_lin.bias",
        "attention.v_lin.weight", "attention.v_lin.bias", "attention.out_lin.weight", "attention.out_lin.bias",
        "sa_layer_norm.weight", "sa_layer_norm.bias", "ffn.lin1.weight", "ffn.lin1.bias",
        "ffn.lin2.weight", "ffn.lin2.bias", "output_layer_norm.weight", "output_layer_norm.bias",
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BertForSequenceClassificationMatchesFloat64(bool withTypes)
    {
        var config = new BertConfig
        {
            VocabSize = 23, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 11,
            MaxPositionEmbeddings = 16, HiddenAct = "gelu", HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.2, ClassifierDropout = 0.3,
        };
        config.NumLabels = 3;
        using var model = BertForSequenceClassification.FromConfig(config, seed: 1);
        Randomise(model, 2);
        var inputs = Inputs(config.VocabSize, withTypes);
        int[] labels = [2, 0, 1];
        var result = model.TrainingForward(inputs, IntTensor.FromArray(labels, 3), new SeededRandom(77));
        model.Backward(0.7f);

        int c = config.HiddenSize;
        var replay = new MaskReplay(77);
        var embeddingMask = replay.Next(0.1, Batch * Seq * c);
        var layerMasks = Enumerable.Range(0, 2).Select(_ => new EncoderLayerMasks(
            replay.Next(0.2, Batch * 2 * Seq * Seq), 0.2, replay.Next(0.1, Batch * Seq * c), 0.1, replay.Next(0.1, Batch * Seq * c), 0.1)).ToList();
        var classifierMask = replay.Next(0.3, Batch * c);
        var values = new Dictionary<string, double[]>();
        double[] Get(string name) => Param(model, values, name);
        var ids = inputs.InputIds.ToArray();
        var types = inputs.TokenTypeIds?.ToArray() ?? new int[Batch * Seq];
        var positions = Enumerable.Range(0, Batch * Seq).Select(i => i % Seq).ToArray();
        double Loss()
        {
            var sum = Add(Add(Embed(Get("bert.embeddings.word_embeddings.weight"), ids, c), Embed(Get("bert.embeddings.token_type_embeddings.weight"), types, c)),
                Embed(Get("bert.embeddings.position_embeddings.weight"), positions, c));
            var h = Dropout(LayerNorm(sum, Get("bert.embeddings.LayerNorm.weight"), Get("bert.embeddings.LayerNorm.bias"), 1e-12), embeddingMask, 0.1);
            for (int l = 0; l < 2; l++)
            {
                h = EncoderLayer(h, LayerWeights(Get, $"bert.encoder.layer.{l}.", BertLayerNames), Batch, Seq, 2, "gelu", 1e-12, Mask, layerMasks[l]);
            }
            var pooled = Map(Linear(FirstTokens(h, c), Get("bert.pooler.dense.weight"), Get("bert.pooler.dense.bias"), c, c), Math.Tanh);
            var logits = Linear(Dropout(pooled, classifierMask, 0.3), Get("classifier.weight"), Get("classifier.bias"), c, 3);
            return 0.7 * CrossEntropy(logits, 3, labels);
        }
        Assert.Equal(Loss() / 0.7, result.Loss!.Value, 5);
        foreach (var p in model.TrainableParameters)
        {
            GradientCheck.Check(p.Name, Get(p.Name), Loss, p.Grad!.Span, rel: 2e-4, abs: 2e-6, maxEntries: 12);
        }
        Assert.All(model.Parameters["bert.embeddings.word_embeddings.weight"].Grad!.Span[..c].ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData("single_label_classification", "gelu", false)]
    [InlineData("regression", "relu", false)]
    [InlineData("multi_label_classification", "gelu", true)]
    public void DistilBertForSequenceClassificationMatchesFloat64(string problemType, string activation, bool sinusoidal)
    {
        var config = new DistilBertConfig
        {
            VocabSize = 23, Dim = 8, NLayers = 2, NHeads = 2, HiddenDim = 11, MaxPositionEmbeddings = 16, Activation = activation,
            Dropout = 0.1, AttentionDropout = 0.2, SeqClassifDropout = 0.25, SinusoidalPosEmbds = sinusoidal,
        };
        int numLabels = problemType == "regression" ? 1 : 3;
        config.NumLabels = numLabels;
        config.ProblemType = problemType;
        using var model = DistilBertForSequenceClassification.FromConfig(config, seed: 1);
        Randomise(model, 3);
        if (sinusoidal)
        {
            var table = model.Parameters["distilbert.embeddings.position_embeddings.weight"];
            DistilBertEmbeddings.SinusoidalTable(table.Value.Span, 16, 8);
            Assert.DoesNotContain(table, model.TrainableParameters);
        }
        var inputs = Inputs(config.VocabSize, withTypes: false);
        int[] classLabels = [2, 0, 1];
        float[] targets = problemType == "regression" ? [0.5f, -1f, 2f] : [1, 0, 1, 0, 0, 1, 1, 1, 0];
        ITensor labels = problemType == "single_label_classification" ? IntTensor.FromArray(classLabels, 3)
            : problemType == "regression" ? Tensor.FromArray(targets, 3) : Tensor.FromArray(targets, 3, 3);
        var result = model.TrainingForward(inputs, labels, new SeededRandom(91));
        model.Backward(1.3f);
        if (sinusoidal) Assert.Null(model.Parameters["distilbert.embeddings.position_embeddings.weight"].Grad);

        int c = config.Dim;
        var replay = new MaskReplay(91);
        var embeddingMask = replay.Next(0.1, Batch * Seq * c);
        var layerMasks = Enumerable.Range(0, 2).Select(_ => new EncoderLayerMasks(
            replay.Next(0.2, Batch * 2 * Seq * Seq), 0.2, null, 0, replay.Next(0.1, Batch * Seq * c), 0.1)).ToList();
        var classifierMask = replay.Next(0.25, Batch * c);
        var values = new Dictionary<string, double[]>();
        double[] Get(string name) => Param(model, values, name);
        var ids = inputs.InputIds.ToArray();
        var positions = Enumerable.Range(0, Batch * Seq).Select(i => i % Seq).ToArray();
        var targetsD = ToDouble(targets);
        double Loss()
        {
            var sum = Add(Embed(Get("distilbert.embeddings.word_embeddings.weight"), ids, c), Embed(Get("distilbert.embeddings.position_embeddings.weight"), positions, c));
            var h = Dropout(LayerNorm(sum, Get("distilbert.embeddings.LayerNorm.weight"), Get("distilbert.embeddings.LayerNorm.bias"), 1e-12), embeddingMask, 0.1);
            for (int l = 0; l < 2; l++)
            {
                h = EncoderLayer(h, LayerWeights(Get, $"distilbert.transformer.layer.{l}.", DistilBertLayerNames), Batch, Seq, 2, activation, 1e-12, Mask, layerMasks[l]);
            }
            var pre = Map(Linear(FirstTokens(h, c), Get("pre_classifier.weight"), Get("pre_classifier.bias"), c, c), v => Math.Max(v, 0));
            var logits = Linear(Dropout(pre, classifierMask, 0.25), Get("classifier.weight"), Get("classifier.bias"), c, numLabels);
            double loss = problemType switch
            {
                "single_label_classification" => CrossEntropy(logits, 3, classLabels),
                "regression" => MeanSquaredError(logits, targetsD),
                _ => BinaryCrossEntropyWithLogits(logits, targetsD),
            };
            return 1.3 * loss;
        }
        Assert.Equal(Loss() / 1.3, result.Loss!.Value, 5);
        foreach (var p in model.TrainableParameters)
        {
            GradientCheck.Check(p.Name, Get(p.Name), Loss, p.Grad!.Span, rel: 2e-4, abs: 2e-6, maxEntries: 12);
        }
    }
}
