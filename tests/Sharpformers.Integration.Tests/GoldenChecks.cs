using System.Text.Json;
using Sharpformers.Models;
using Sharpformers.Pipelines;
using Sharpformers.Tensors;
using Sharpformers.TestSupport;
using static Sharpformers.Pipelines.PipelineFactory;

namespace Sharpformers.Integration.Tests;

/// <summary>
/// Everything the tiny-bert goldens hold that a loaded model computes: the base model's padded batch
/// (AutoModel), the classification logits and softmax of three batches and the loss
/// (AutoModelForSequenceClassification), and the pipeline's scores (Pipeline, which also runs the
/// tokenizer). A model loaded from any source (folder, repo id, .bin, shards, half precision) is run
/// through the same checks, so "matches the goldens" means the same thing everywhere.
/// </summary>
internal static class GoldenChecks
{
    public const string Fixture = "tiny-bert";

    /// <summary>The sections checked, output name → golden tensor path.</summary>
    private static readonly (string Name, string GoldenPath)[] ModelSections =
    [
        ("base_model.batch.last_hidden_state", "base_model.batch.last_hidden_state"),
        ("base_model.batch.pooler_output", "base_model.batch.pooler_output"),
        ("sequence_classification.batch.logits", "sequence_classification.batch.logits"),
        ("sequence_classification.batch.softmax", "sequence_classification.batch.softmax"),
        ("sequence_classification.batch_max_length_16.logits", "sequence_classification.batch_max_length_16.logits"),
        ("sequence_classification.batch_max_length_16.softmax", "sequence_classification.batch_max_length_16.softmax"),
        ("sequence_classification.pair.logits", "sequence_classification.pair.logits"),
        ("sequence_classification.pair.softmax", "sequence_classification.pair.softmax"),
    ];

    private static JsonElement Golden => Goldens.Load(Fixture);

    /// <summary>What the goldens say, under the names <see cref="Outputs"/> uses.</summary>
    public static Dictionary<string, float[]> Expected()
    {
        var expected = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, path) in ModelSections) expected[name] = Golden.At(path).Tensor().Data;
        expected["sequence_classification.loss_with_labels.loss"] = [(float)Golden.At("sequence_classification.loss_with_labels.loss").GetDouble()];
        var pipeline = Golden.GetProperty("pipeline_text_classification");
        expected["pipeline.default"] = pipeline.GetProperty("default").EnumerateArray().Select(s => (float)s.GetProperty("score").GetDouble()).ToArray();
        expected["pipeline.top_k_none"] = pipeline.GetProperty("top_k_none").EnumerateArray()
            .SelectMany(r => r.EnumerateArray()).Select(s => (float)s.GetProperty("score").GetDouble()).ToArray();
        expected["pipeline.pair_default"] = [(float)pipeline.GetProperty("pair_default").GetProperty("score").GetDouble()];
        return expected;
    }

    /// <summary>The labels the golden pipeline returned, in the order of <see cref="Outputs"/>' pipeline scores.</summary>
    public static string[] ExpectedLabels()
    {
        var pipeline = Golden.GetProperty("pipeline_text_classification");
        return pipeline.GetProperty("default").EnumerateArray().Select(s => s.GetProperty("label").GetString()!)
            .Concat(pipeline.GetProperty("top_k_none").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(s => s.GetProperty("label").GetString()!))
            .Append(pipeline.GetProperty("pair_default").GetProperty("label").GetString()!)
            .ToArray();
    }

    /// <summary>
    /// Loads <paramref name="nameOrPath"/> with AutoModel, AutoModelForSequenceClassification and Pipeline
    /// and computes every output the goldens hold (and the pipeline's labels).
    /// </summary>
    public static (Dictionary<string, float[]> Values, string[] Labels) Outputs(string nameOrPath, FromPretrainedOptions? options = null, bool withPipeline = true)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using (var model = AutoModel.FromPretrained(nameOrPath, options))
        {
            Assert.Equal(Golden.At("base_model.class").GetString(), model.ClassName);
            var output = model.Forward(Inputs("base_model.batch.inputs"));
            values["base_model.batch.last_hidden_state"] = output.LastHiddenState.ToArray();
            values["base_model.batch.pooler_output"] = output.PoolerOutput!.ToArray();
        }
        using (var model = AutoModelForSequenceClassification.FromPretrained(nameOrPath, options))
        {
            Assert.Equal(Golden.At("sequence_classification.class").GetString(), model.ClassName);
            foreach (string section in new[] { "batch", "batch_max_length_16", "pair" })
            {
                var logits = model.Forward(Inputs($"sequence_classification.{section}.inputs")).Logits;
                values[$"sequence_classification.{section}.logits"] = logits.ToArray();
                values[$"sequence_classification.{section}.softmax"] = logits.Softmax(dim: -1).ToArray();
            }
            var loss = Golden.At("sequence_classification.loss_with_labels");
            var labels = IntTensor.FromArray(loss.GetProperty("labels").Ints());
            values["sequence_classification.loss_with_labels.loss"] = [model.Forward(Inputs("sequence_classification.loss_with_labels.inputs"), labels).Loss!.Value];
        }
        if (!withPipeline) return (values, []);
        var pipelineLabels = new List<string>();
        var golden = Golden.GetProperty("pipeline_text_classification");
        using (var classifier = Pipeline("text-classification", model: nameOrPath, modelOptions: options))
        {
            string[] texts = golden.GetProperty("texts").Strings();
            var top = classifier.Invoke(texts, new TextClassificationOptions { Truncation = true });
            values["pipeline.default"] = top.Select(r => r.Score).ToArray();
            pipelineLabels.AddRange(top.Select(r => r.Label));
            var all = classifier.Invoke(texts, new TextClassificationOptions { TopK = null, Truncation = true });
            values["pipeline.top_k_none"] = all.SelectMany(r => r.Select(s => s.Score)).ToArray();
            pipelineLabels.AddRange(all.SelectMany(r => r.Select(s => s.Label)));
            var pair = golden.GetProperty("pair_input");
            var pairResult = classifier.Invoke(new TextInput(pair.GetProperty("text").GetString()!, pair.GetProperty("text_pair").GetString()));
            values["pipeline.pair_default"] = [pairResult.Score];
            pipelineLabels.Add(pairResult.Label);
        }
        return (values, pipelineLabels.ToArray());
    }

    /// <summary>Largest |a - b| per output (both must have the same outputs and sizes).</summary>
    public static Dictionary<string, double> Diffs(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        var diffs = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, values) in actual)
        {
            Assert.True(expected.TryGetValue(name, out var reference), $"no reference for {name}");
            Assert.Equal(reference.Length, values.Length);
            diffs[name] = Approx.MaxAbsDiff(reference, values);
        }
        return diffs;
    }

    /// <summary>
    /// Asserts that the model at <paramref name="nameOrPath"/> matches every golden within
    /// <paramref name="tolerance"/> (labels exactly) and records the figures under <paramref name="what"/>.
    /// Returns the outputs for further comparisons.
    /// </summary>
    public static Dictionary<string, float[]> AssertMatchesGoldens(string nameOrPath, string what, double tolerance = 1e-5, FromPretrainedOptions? options = null)
    {
        var (values, labels) = Outputs(nameOrPath, options);
        Assert.Equal(ExpectedLabels(), labels);
        AssertWithin(Diffs(Expected(), values), tolerance, $"{what} vs goldens");
        return values;
    }

    /// <summary>Asserts every diff ≤ tolerance, recording the largest.</summary>
    public static void AssertWithin(Dictionary<string, double> diffs, double tolerance, string what)
    {
        double worst = diffs.Values.Max();
        Figures.Record(what, worst);
        foreach (var group in diffs.GroupBy(d => d.Key[..d.Key.IndexOf('.')]))
        {
            Figures.Record($"{what}: {group.Key}", group.Max(d => d.Value));
        }
        foreach (var (name, diff) in diffs) Assert.True(diff <= tolerance, $"{what}: {name} differs by {diff:E3} > {tolerance:E3}");
    }

    /// <summary>Asserts two sets of outputs are bit for bit the same.</summary>
    public static void AssertIdentical(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, string what)
    {
        var diffs = Diffs(expected, actual);
        Figures.Record(what, diffs.Values.Max());
        foreach (var (name, values) in actual)
        {
            Assert.True(expected[name].Select(BitConverter.SingleToInt32Bits).SequenceEqual(values.Select(BitConverter.SingleToInt32Bits)),
                $"{what}: {name} is not bit-identical (max |diff| {diffs[name]:E3})");
        }
    }

    private static ModelInputs Inputs(string dottedPath)
    {
        var reference = Golden.At(dottedPath);
        var element = reference.ValueKind == JsonValueKind.String ? Golden.At(reference.GetString()!) : reference;
        return new ModelInputs
        {
            InputIds = IntTensor.FromRows(element.GetProperty("input_ids").IntRows()),
            AttentionMask = IntTensor.FromRows(element.GetProperty("attention_mask").IntRows()),
            TokenTypeIds = element.TryGetProperty("token_type_ids", out var types) ? IntTensor.FromRows(types.IntRows()) : null,
        };
    }
}

/// <summary>The measured figures (largest absolute differences, derived bounds), written beside the test assembly for the report.</summary>
internal static class Figures
{
    private static readonly Lock Gate = new();
    private static readonly SortedDictionary<string, double> Values = new(StringComparer.Ordinal);

    public static void Record(string what, double value)
    {
        lock (Gate)
        {
            Values[what] = value;
            File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "integration-figures.txt"), Values.Select(kv => $"{kv.Value:E3}  {kv.Key}"));
        }
    }
}
