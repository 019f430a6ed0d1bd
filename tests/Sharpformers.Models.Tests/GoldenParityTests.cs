using System.Text.Json;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;

namespace Sharpformers.Models.Tests;

/// <summary>
/// Every value the real transformers 4.38 computed for the tiny fixtures of every architecture
/// (base model outputs, all hidden states and attentions, pooler, logits, softmax, labels, loss)
/// matches within 1e-5 absolute.
/// </summary>
public sealed class GoldenParityTests
{
    private static readonly string[] AllModels =
        ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra", "tiny-albert", "tiny-deberta-v2"];

    public static TheoryData<string> Models => new(AllModels);

    public static TheoryData<string, string> BaseModelSections =>
        Combine(["small_batch_all_outputs", "pair_all_outputs"]);

    public static TheoryData<string, string> ClassificationSections =>
        Combine(["batch", "batch_max_length_16", "pair"]);

    private static TheoryData<string, string> Combine(string[] sections)
    {
        var data = new TheoryData<string, string>();
        foreach (string model in AllModels)
            foreach (string section in sections)
                data.Add(model, section);
        return data;
    }

    /// <summary>The golden's from_pretrained keyword arguments for the base model (RoBERTa's add_pooling_layer=False).</summary>
    private static FromPretrainedOptions BaseModelOptions(JsonElement golden, bool allOutputs)
    {
        bool? addPoolingLayer = golden.At("base_model").TryGetProperty("from_pretrained_kwargs", out var kwargs)
            && kwargs.TryGetProperty("add_pooling_layer", out var pooling) ? pooling.GetBoolean() : null;
        return new FromPretrainedOptions
        {
            AddPoolingLayer = addPoolingLayer,
            OutputAttentions = allOutputs ? true : null,
            OutputHiddenStates = allOutputs ? true : null,
        };
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BaseModelPaddedBatch(string name)
    {
        var golden = Goldens.Load(name);
        var expected = golden.At("base_model.batch");
        using var model = AutoModel.FromPretrained(Fixtures.Model(name), BaseModelOptions(golden, allOutputs: false));
        Assert.Equal(golden.At("base_model.class").GetString(), model.ClassName);
        var output = model.Forward(GoldenInputs.Resolve(golden, expected.GetProperty("inputs")));
        GoldenInputs.AssertTensor(expected.GetProperty("last_hidden_state"), output.LastHiddenState, $"{name} base batch last_hidden_state");
        if (expected.TryGetProperty("pooler_output", out var pooler))
        {
            GoldenInputs.AssertTensor(pooler, output.PoolerOutput!, $"{name} base batch pooler_output");
        }
        else
        {
            Assert.Null(output.PoolerOutput);
        }
    }

    [Theory]
    [MemberData(nameof(BaseModelSections))]
    public void BaseModelAllHiddenStatesAndAttentions(string name, string section)
    {
        var golden = Goldens.Load(name);
        var expected = golden.At($"base_model.{section}");
        using var model = AutoModel.FromPretrained(Fixtures.Model(name), BaseModelOptions(golden, allOutputs: true));
        var output = model.Forward(GoldenInputs.Resolve(golden, expected.GetProperty("inputs")));
        GoldenInputs.AssertTensor(expected.GetProperty("last_hidden_state"), output.LastHiddenState, $"{name} {section} last_hidden_state");
        var hidden = expected.GetProperty("hidden_states").EnumerateArray().ToList();
        Assert.Equal(hidden.Count, output.HiddenStates!.Count);
        for (int i = 0; i < hidden.Count; i++) GoldenInputs.AssertTensor(hidden[i], output.HiddenStates[i], $"{name} {section} hidden_states[{i}]");
        var attentions = expected.GetProperty("attentions").EnumerateArray().ToList();
        Assert.Equal(attentions.Count, output.Attentions!.Count);
        for (int i = 0; i < attentions.Count; i++) GoldenInputs.AssertTensor(attentions[i], output.Attentions[i], $"{name} {section} attentions[{i}]");
        if (expected.TryGetProperty("pooler_output", out var pooler))
        {
            GoldenInputs.AssertTensor(pooler, output.PoolerOutput!, $"{name} {section} pooler_output");
        }
        else
        {
            Assert.Null(output.PoolerOutput);
        }
    }

    [Theory]
    [MemberData(nameof(ClassificationSections))]
    public void SequenceClassificationLogitsSoftmaxAndLabels(string name, string section)
    {
        var golden = Goldens.Load(name);
        var expected = golden.At($"sequence_classification.{section}");
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        Assert.Equal(golden.At("sequence_classification.class").GetString(), model.ClassName);
        Assert.Equal(golden.At("sequence_classification.num_labels").GetInt32(), model.NumLabels);
        var output = model.Forward(GoldenInputs.Resolve(golden, expected.GetProperty("inputs")));
        Assert.Null(output.Loss);
        GoldenInputs.AssertTensor(expected.GetProperty("logits"), output.Logits, $"{name} {section} logits");
        var probabilities = output.Logits.Softmax(dim: -1);
        GoldenInputs.AssertTensor(expected.GetProperty("softmax"), probabilities, $"{name} {section} softmax");
        if (expected.TryGetProperty("argmax", out var argmax))
        {
            var predictions = probabilities.ArgMax(dim: -1).ToArray();
            Assert.Equal(argmax.Ints(), predictions);
            Assert.Equal(expected.GetProperty("argmax_labels").Strings(), predictions.Select(p => model.Config.Id2Label[p]).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LossWithLabels(string name)
    {
        var golden = Goldens.Load(name);
        var expected = golden.At("sequence_classification.loss_with_labels");
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        Assert.Null(model.Config.ProblemType);
        var labels = IntTensor.FromArray(expected.GetProperty("labels").Ints());
        var output = model.Forward(GoldenInputs.Resolve(golden, expected.GetProperty("inputs")), labels);
        float loss = output.Loss!.Value;
        MaxDiffs.Record($"{name} loss", Math.Abs(loss - (float)expected.GetProperty("loss").GetDouble()));
        Assert.Equal((float)expected.GetProperty("loss").GetDouble(), loss, 1e-5f);
        Assert.Equal(expected.GetProperty("problem_type").GetString(), model.Config.ProblemType);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TrainingGoldenForwardLogitsAndLoss(string name)
    {
        // The training golden's forward (dropout 0) is the inference forward: same logits and loss.
        var golden = Goldens.Load(name);
        var training = golden.At("training");
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var inputs = GoldenInputs.Resolve(golden, training.GetProperty("inputs"));
        var output = model.Forward(inputs, IntTensor.FromArray(training.GetProperty("labels").Ints()));
        GoldenInputs.AssertTensor(training.GetProperty("logits"), output.Logits, $"{name} training logits");
        Assert.Equal((float)training.GetProperty("loss").GetDouble(), output.Loss!.Value, 1e-5f);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ParametersFollowTorchNamedParametersOrder(string name)
    {
        var golden = Goldens.Load(name);
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var order = golden.At("training.parameter_order").Strings();
        Assert.Equal(order, model.Parameters.Select(p => p.Name).ToArray());
        var shapes = golden.At("training.parameter_shapes");
        foreach (var p in model.Parameters) Assert.Equal(shapes.GetProperty(p.Name).Ints(), p.Shape);
        Assert.True(model.LoadReport!.IsExactMatch, model.LoadReport.Warning);
    }
}
