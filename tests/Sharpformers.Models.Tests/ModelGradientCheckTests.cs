using Sharpformers.Kernels;
using Sharpformers.Models.Bert;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;
using Sharpformers.Utils;
using static Sharpformers.TestSupport.DoubleReference;
using static Sharpformers.Models.Tests.WholeModelGradientFixture;

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
    private static double[] Param(PreTrainedModel model, Dictionary<string, double[]> values, string name) =>
        values.TryGetValue(name, out var v) ? v : values[name] = ToDouble(model.Parameters[name].Value.Span);

    private static double[] FirstTokens(double[] hidden, int dim)
    {
        var first = new double[Batch * dim];
        for (int b = 0; b < Batch; b++) Array.Copy(hidden, b * Seq * dim, first, b * dim, dim);
        return first;
    }

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
