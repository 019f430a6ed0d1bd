using System.Text.Json;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;
using Xunit.Abstractions;

namespace Sharpformers.Models.Tests;

/// <summary>
/// The goldens' `training` section: transformers 4.38 in model.train() with every dropout forced to 0
/// through from_pretrained's config overrides, on texts 0–3 with fixed labels: the loss, the logits
/// and every parameter's gradient after loss.backward().
/// </summary>
public sealed class TrainingGoldenTests(ITestOutputHelper output)
{
    internal static SequenceClassificationModel LoadForTraining(string name)
    {
        var training = Goldens.Load(name).GetProperty("training");
        var overrides = training.GetProperty("config_overrides_for_training").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.ToString());
        return AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name), new FromPretrainedOptions { ConfigOverrides = overrides });
    }

    internal static (ModelInputs Inputs, IntTensor Labels) Batch(string name)
    {
        var training = Goldens.Load(name).GetProperty("training");
        var inputs = training.GetProperty("inputs");
        return (new ModelInputs
        {
            InputIds = IntTensor.FromRows(inputs.GetProperty("input_ids").IntRows()),
            AttentionMask = IntTensor.FromRows(inputs.GetProperty("attention_mask").IntRows()),
            TokenTypeIds = inputs.TryGetProperty("token_type_ids", out var types) ? IntTensor.FromRows(types.IntRows()) : null,
        }, IntTensor.FromArray(training.GetProperty("labels").Ints(), training.GetProperty("labels").GetArrayLength()));
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void LossLogitsAndEveryGradientMatchTorch(string name)
    {
        var training = Goldens.Load(name).GetProperty("training");
        using var model = LoadForTraining(name);
        var (inputs, labels) = Batch(name);
        var result = model.TrainingForward(inputs, labels);
        GoldenInputs.AssertTensor(training.GetProperty("logits"), result.Logits, $"{name} training logits");
        float expectedLoss = (float)training.GetProperty("loss").GetDouble();
        output.WriteLine($"{name}: loss {result.Loss:R}, torch {expectedLoss:R}");
        Assert.Equal(expectedLoss, result.Loss!.Value, 1e-6f);

        model.Backward();
        var order = training.GetProperty("parameter_order").Strings();
        Assert.Equal(order, model.TrainableParameters.Select(p => p.Name));
        double worstAbs = 0, worstRel = 0;
        foreach (var parameter in model.TrainableParameters)
        {
            var expected = training.GetProperty("gradients").GetProperty(parameter.Name).Floats();
            var actual = parameter.Grad!.Span;
            Assert.Equal(training.GetProperty("parameter_shapes").GetProperty(parameter.Name).Ints(), parameter.Shape);
            for (int i = 0; i < expected.Length; i++)
            {
                double diff = Math.Abs((double)expected[i] - actual[i]);
                double rel = diff / Math.Max(Math.Abs((double)expected[i]), 1e-30);
                // The goldens' tolerance: 1e-5 relative or 1e-6 absolute.
                Assert.True(diff <= 1e-6 || rel <= 1e-5, $"{parameter.Name}[{i}]: torch {expected[i]:R}, ours {actual[i]:R}, |diff| {diff:E3}, relative {rel:E3}");
                worstAbs = Math.Max(worstAbs, diff);
                if (diff > 1e-6) worstRel = Math.Max(worstRel, rel);
            }
            MaxDiffs.Record($"{name} gradient {parameter.Name}", Approx.MaxAbsDiff(expected, actual));
        }
        output.WriteLine($"{name}: worst gradient |diff| {worstAbs:E2}; worst relative diff where |diff| > 1e-6: {worstRel:E2}");
    }

    [Theory]
    [InlineData("tiny-bert")]
    [InlineData("tiny-distilbert")]
    public void TrainingForwardWithoutDropoutEqualsInference(string name)
    {
        // The tiny models' configs have dropout 0.1: with no generator the training forward draws no masks.
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model(name));
        var (inputs, labels) = Batch(name);
        var inference = model.Forward(inputs, labels);
        var training = model.TrainingForward(inputs, labels);
        Approx.Equal(inference.Logits.Span, training.Logits.Span, 1e-6, what: "logits");
        Assert.Equal(inference.Loss!.Value, training.Loss!.Value, 1e-6f);
    }

    [Fact]
    public void BackwardNeedsATrainingForwardWithLabelsAndRunsOnce()
    {
        using var model = LoadForTraining("tiny-distilbert");
        var (inputs, labels) = Batch("tiny-distilbert");
        Assert.Contains("TrainingForward first", Assert.Throws<InvalidOperationException>(() => model.Backward()).Message);
        model.TrainingForward(inputs);
        Assert.Contains("with labels", Assert.Throws<InvalidOperationException>(() => model.Backward()).Message);
        model.TrainingForward(inputs, labels);
        model.Backward();
        Assert.Throws<InvalidOperationException>(() => model.Backward());
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardPassesAndZeroGradClearsThem()
    {
        using var model = LoadForTraining("tiny-bert");
        var (inputs, labels) = Batch("tiny-bert");
        model.TrainingForward(inputs, labels);
        model.Backward(0.5f);
        var half = model.TrainableParameters.Select(p => p.Grad!.Span.ToArray()).ToList();
        model.TrainingForward(inputs, labels);
        model.Backward(0.5f);
        var full = Goldens.Load("tiny-bert").GetProperty("training").GetProperty("gradients");
        foreach (var (parameter, first) in model.TrainableParameters.Zip(half))
        {
            Approx.Equal(first.Select(v => 2 * v).ToArray(), parameter.Grad!.Span, 1e-7, 1e-6, parameter.Name);
            Approx.Equal(full.GetProperty(parameter.Name).Floats(), parameter.Grad!.Span, 1e-6, 1e-5, parameter.Name);
        }
        model.ZeroGrad();
        Assert.All(model.TrainableParameters, p => Assert.True(p.Grad!.Span.IndexOfAnyExcept(0f) < 0));
    }
}
