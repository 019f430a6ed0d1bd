using Sharpformers.Models.Bert;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

public sealed class ForwardTests
{
    private static ModelInputs Sample() => ModelInputs.FromIds([[7, 71, 16, 84, 119, 8], [7, 473, 529, 8]]);

    [Fact]
    public void PaddingDoesNotChangeTheRealTokens()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-bert"));
        var batch = model.Forward(Sample()).Logits;
        var alone = model.Forward(ModelInputs.FromIds([[7, 473, 529, 8]])).Logits;
        Approx.Equal(alone.ToArray(), batch[1].ToArray(), 1e-6);
    }

    [Fact]
    public void TokenTypeIdsChangeBertOutputs()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-bert"));
        var ids = IntTensor.FromRows([[7, 71, 16, 8, 84, 8]]);
        var zeros = model.Forward(new ModelInputs(ids, tokenTypeIds: IntTensor.Zeros(1, 6))).Logits.ToArray();
        var none = model.Forward(new ModelInputs(ids)).Logits.ToArray();
        var pair = model.Forward(new ModelInputs(ids, tokenTypeIds: IntTensor.FromRows([[0, 0, 0, 0, 1, 1]]))).Logits.ToArray();
        Assert.Equal(zeros, none);
        Assert.NotEqual(zeros, pair);
    }

    [Fact]
    public void LossFollowsProblemTypeAsTransformersDecidesIt()
    {
        var logits = Tensor.FromArray(new float[,] { { 1f, -2f, 0.5f }, { 0f, 3f, -1f } });
        var config = new BertConfig { NumLabels = 3 };
        // Integer labels → single-label cross-entropy: mean of logsumexp - logit[label].
        float ce = SequenceClassificationLoss.Compute(config, logits, IntTensor.FromArray([2, 1]));
        double expected = (Math.Log(Math.Exp(1) + Math.Exp(-2) + Math.Exp(0.5)) - 0.5 + Math.Log(1 + Math.Exp(3) + Math.Exp(-1)) - 3) / 2;
        Assert.Equal(expected, ce, 6);
        Assert.Equal("single_label_classification", config.ProblemType);

        // Float multi-hot labels → BCE with logits (on a fresh config).
        config = new BertConfig { NumLabels = 3 };
        float bce = SequenceClassificationLoss.Compute(config, logits, Tensor.FromArray(new float[,] { { 1, 0, 1 }, { 0, 1, 0 } }));
        double b = 0;
        float[] x = logits.ToArray();
        float[] y = [1, 0, 1, 0, 1, 0];
        for (int i = 0; i < 6; i++) b += -(y[i] * Math.Log(1 / (1 + Math.Exp(-x[i]))) + (1 - y[i]) * Math.Log(1 - 1 / (1 + Math.Exp(-x[i]))));
        Assert.Equal(b / 6, bce, 5);
        Assert.Equal("multi_label_classification", config.ProblemType);

        // num_labels == 1 → regression (MSE).
        config = new BertConfig { NumLabels = 1 };
        float mse = SequenceClassificationLoss.Compute(config, Tensor.FromArray([0.5f, -1f], 2, 1), Tensor.FromArray([1f, 1f]));
        Assert.Equal((0.25 + 4) / 2, mse, 6);
        Assert.Equal("regression", config.ProblemType);

        // -100 is ignored.
        config = new BertConfig { NumLabels = 3 };
        float ignored = SequenceClassificationLoss.Compute(config, logits, IntTensor.FromArray([2, -100]));
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(-2) + Math.Exp(0.5)) - 0.5, ignored, 6);

        var ex = Assert.Throws<ArgumentException>(() => SequenceClassificationLoss.Compute(new BertConfig { NumLabels = 3 }, logits, IntTensor.FromArray([3, 0])));
        Assert.Contains("Label 3 at position 0 is outside [0, 3)", ex.Message);
    }

    [Fact]
    public void BadInputsAreClearErrors()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-bert"));
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.FromRows([[7, 5000, 8]])));
        Assert.Contains("input_ids holds 5000 at position 1, outside [0, 1028) (vocab_size in config.json)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.Zeros(1, 65)));
        Assert.Contains("The sequence has 65 tokens but the model has max_position_embeddings = 64", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.Zeros(1, 3), attentionMask: IntTensor.Zeros(1, 4)));
        Assert.Contains("attention_mask has shape (1, 4), but input_ids is (1, 3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.Zeros(1, 3), tokenTypeIds: IntTensor.Full(2, 1, 3)));
        Assert.Contains("token_type_ids holds 2 at position 0, outside [0, 2) (type_vocab_size in config.json)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(IntTensor.Zeros(1, 0)));
        Assert.Contains("input_ids is empty", ex.Message);
    }

    [Fact]
    public void ConcurrentForwardPassesGiveTheSameResults()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var expected = model.Forward(Sample()).Logits.ToArray();
        var results = new float[8][];
        Parallel.For(0, 8, i => results[i] = model.Forward(Sample()).Logits.ToArray());
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void OutputSwitchesComeFromTheConfigUnlessOverriddenPerCall()
    {
        using var model = AutoModel.FromPretrained(Fixtures.Model("tiny-distilbert"), new FromPretrainedOptions { OutputHiddenStates = true });
        var output = model.Forward(Sample());
        Assert.Equal(3, output.HiddenStates!.Count);
        Assert.Null(output.Attentions);
        var off = model.Forward(Sample(), outputHiddenStates: false, outputAttentions: true);
        Assert.Null(off.HiddenStates);
        Assert.Equal([2, 4, 6, 6], off.Attentions![0].Shape);
        Assert.Equal(off.LastHiddenState.ToArray(), output.LastHiddenState.ToArray());
    }
}
