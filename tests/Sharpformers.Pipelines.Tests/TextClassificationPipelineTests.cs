using System.Text.Json;
using Sharpformers.Models;
using Sharpformers.Tokenizers;
using Sharpformers.TestSupport;
using static Sharpformers.Pipelines.PipelineFactory;

namespace Sharpformers.Pipelines.Tests;

/// <summary>pipeline("text-classification") against what transformers 4.38 returned for the tiny models (1e-5).</summary>
public sealed class TextClassificationPipelineTests
{
    private static readonly Lock Gate = new();
    private static double worst;

    public static TheoryData<string> Models => new()
    {
        "tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra", "tiny-albert", "tiny-deberta-v2",
    };

    private static void AssertScore(JsonElement expected, LabelScore actual, string what)
    {
        Assert.Equal(expected.GetProperty("label").GetString(), actual.Label);
        double diff = Math.Abs(expected.GetProperty("score").GetDouble() - actual.Score);
        lock (Gate)
        {
            worst = Math.Max(worst, diff);
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "pipeline-max-diff.txt"), $"{worst:E3}\n");
        }
        Assert.True(diff <= 1e-5, $"{what}: score {actual.Score:R}, expected {expected.GetProperty("score").GetDouble():R} (|diff| {diff:E2})");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void DefaultTopOneForEveryText(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        using var classifier = Pipeline("text-classification", model: Fixtures.Model(name), options: new() { Truncation = true });
        var results = classifier.Invoke(golden.GetProperty("texts").Strings());
        var expected = golden.GetProperty("default").EnumerateArray().ToList();
        Assert.Equal(expected.Count, results.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var only = Assert.Single(results[i]);
            AssertScore(expected[i], only, $"{name} text {i}");
            Assert.Equal(only.Label, results[i].Label);
            Assert.Equal(only.Score, results[i].Score);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TopKNoneReturnsEveryLabelByScore(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        using var classifier = Pipeline("sentiment-analysis", model: Fixtures.Model(name));
        var results = classifier.Invoke(golden.GetProperty("texts").Strings(), new TextClassificationOptions { TopK = null, Truncation = true });
        var expected = golden.GetProperty("top_k_none").EnumerateArray().ToList();
        for (int i = 0; i < expected.Count; i++)
        {
            var labels = expected[i].EnumerateArray().ToList();
            Assert.Equal(labels.Count, results[i].Count);
            for (int k = 0; k < labels.Count; k++) AssertScore(labels[k], results[i][k], $"{name} text {i} rank {k}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TextPairsAndASingleString(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        using var classifier = Pipeline("text-classification", model: Fixtures.Model(name), options: new() { Truncation = true });
        var pair = golden.GetProperty("pair_input");
        var input = new TextInput(pair.GetProperty("text").GetString()!, pair.GetProperty("text_pair").GetString());
        AssertScore(golden.GetProperty("pair_default"), classifier.Invoke(input)[0], $"{name} pair");
        var all = classifier.Invoke(input, new TextClassificationOptions { TopK = null });
        var expected = golden.GetProperty("pair_top_k_none").EnumerateArray().ToList();
        for (int k = 0; k < expected.Count; k++) AssertScore(expected[k], all[k], $"{name} pair rank {k}");

        var single = classifier.Invoke(golden.GetProperty("texts")[0].GetString()!);
        AssertScore(golden.GetProperty("single_string_call")[0], single[0], $"{name} single string");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchingWithPaddingGivesTheSameScores(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        using var classifier = Pipeline("text-classification", model: Fixtures.Model(name));
        var inputs = golden.GetProperty("texts").Strings().Select(t => new TextInput(t)).ToList();
        var pair = golden.GetProperty("pair_input");
        inputs.Insert(3, new TextInput(pair.GetProperty("text").GetString()!, pair.GetProperty("text_pair").GetString()));
        var one = classifier.Invoke(inputs, new TextClassificationOptions { TopK = null, Truncation = true });
        var batched = classifier.Invoke(inputs, new TextClassificationOptions { TopK = null, Truncation = true, BatchSize = 4 });
        for (int i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(one[i].Select(s => s.Label), batched[i].Select(s => s.Label));
            Approx.Equal(one[i].Logits.ToArray(), batched[i].Logits.ToArray(), 1e-5, what: $"logits {i}");
        }
        AssertScore(golden.GetProperty("pair_default"), batched[3][0], "pair inside a batch");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LengthSortedBatchesReturnResultsInInputOrder(string name)
    {
        using var classifier = Pipeline("text-classification", model: Fixtures.Model(name));
        var inputs = new List<TextInput>();
        for (int i = 0; i < 23; i++)
        {
            string text = string.Join(" ", Enumerable.Repeat("what a wonderful film", 1 + (i * 7) % 5)) + $" ({i})";
            inputs.Add(i % 6 == 5 ? new TextInput(text, "and a second sentence") : new TextInput(text));
        }
        var sorted = classifier.Invoke(inputs, new TextClassificationOptions { TopK = null, BatchSize = 4, Truncation = true });
        var fileOrder = classifier.Invoke(inputs, new TextClassificationOptions { TopK = null, BatchSize = 4, Truncation = true, SortByLength = false });
        var single = classifier.Invoke(inputs, new TextClassificationOptions { TopK = null, Truncation = true });
        Assert.Equal(inputs.Count, sorted.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            Assert.Same(inputs[i], sorted[i].Input);
            Approx.Equal(single[i].Logits.ToArray(), sorted[i].Logits.ToArray(), 1e-5, what: $"sorted logits {i}");
            Approx.Equal(single[i].Logits.ToArray(), fileOrder[i].Logits.ToArray(), 1e-5, what: $"file-order logits {i}");
        }
    }

    [Fact]
    public void FunctionToApplyFollowsTransformersRules()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"));
        var tokenizer = AutoTokenizer.FromPretrained(Fixtures.Model("tiny-distilbert"));
        using var classifier = Pipeline("text-classification", model, tokenizer);
        var result = classifier.Invoke("I hate this so much!", new TextClassificationOptions { TopK = null });
        Assert.Equal(1f, result.Sum(s => s.Score), 5); // softmax by default for 2 labels
        var raw = classifier.Invoke("I hate this so much!", new TextClassificationOptions { TopK = null, FunctionToApply = ClassificationFunction.None });
        Assert.Equal(raw.Logits.Max(), raw[0].Score);
        model.Config.ProblemType = "multi_label_classification";
        var sigmoid = classifier.Invoke("I hate this so much!", new TextClassificationOptions { TopK = null });
        Assert.Equal(1 / (1 + Math.Exp(-raw.Logits[0])), sigmoid.Single(s => s.Label == "NEGATIVE").Score, 5);
    }

    [Fact]
    public void ClearErrors()
    {
        var ex = Assert.Throws<ArgumentException>(() => Pipeline("summarization", model: Fixtures.Model("tiny-bert")));
        Assert.Contains("Unknown pipeline task 'summarization'", ex.Message);
        using var classifier = Pipeline("text-classification", model: Fixtures.Model("tiny-bert"));
        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Invoke("x", new TextClassificationOptions { TopK = 0 }));
        string longText = string.Join(" ", Enumerable.Repeat("hello world", 60));
        ex = Assert.Throws<ArgumentException>(() => classifier.Invoke(longText));
        Assert.Contains("max_position_embeddings = 64", ex.Message);
        Assert.Single(classifier.Invoke(longText, new TextClassificationOptions { Truncation = true }));
    }
}
