using System.Text.Json;
using Sharpformers.Models;
using Sharpformers.Nn.Inference;
using Sharpformers.TestSupport;
using static Sharpformers.Pipelines.PipelineFactory;

namespace Sharpformers.Pipelines.Tests;

/// <summary>
/// The bundled default sentiment model (models/default-sentiment, copied beside the assemblies):
/// pipeline("sentiment-analysis") with no model loads it offline, and it classifies as its model
/// card says it does.
/// </summary>
public sealed class DefaultModelTests
{
    [Fact]
    public void TheDefaultModelShipsBesideTheAssembliesWithinTheSizeBudget()
    {
        string folder = DefaultModels.For("sentiment-analysis");
        Assert.Equal(folder, DefaultModels.For("text-classification"));
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "models", "default-sentiment"), folder);
        long bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.InRange(bytes, 1_000_000, 25_000_000);
        Assert.True(File.Exists(Path.Combine(folder, "README.md")), "the model card is missing");

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        var id2label = config.RootElement.GetProperty("id2label");
        Assert.Equal("NEGATIVE", id2label.GetProperty("0").GetString());
        Assert.Equal("POSITIVE", id2label.GetProperty("1").GetString());
    }

    [Fact]
    public void UnknownTasksHaveNoDefaultModel()
    {
        var error = Assert.Throws<ArgumentException>(() => DefaultModels.For("fill-mask"));
        Assert.Contains("'fill-mask'", error.Message);
    }

    [Fact]
    public void SentimentAnalysisWithNoModelClassifiesClearTextsCorrectly()
    {
        // Not the course's "I've been waiting for a HuggingFace course my whole life.": this small model,
        // trained from scratch, reads that idiom as NEGATIVE (0.79); its model card says so.
        using var classifier = Pipeline("sentiment-analysis", options: new() { Truncation = true });
        var results = classifier.Invoke([
            "What a fantastic, heartwarming story; I loved every minute.",
            "I hate this so much!",
            "A wonderful, moving film with superb performances.",
            "The plot is a tedious mess and the acting is dreadful.",
        ]);
        Assert.Equal(["POSITIVE", "NEGATIVE", "POSITIVE", "NEGATIVE"], results.Select(r => r.Label));
        Assert.All(results, r => Assert.InRange(r.Score, 0.5, 1.0));
    }

    [Fact]
    public void LongReviewsAreTruncatedToTheModelsLength()
    {
        using var classifier = Pipeline("sentiment-analysis", options: new() { Truncation = true });
        string review = string.Join(" ", Enumerable.Repeat("An excellent, beautifully acted and deeply moving film.", 200));
        var result = Assert.Single(classifier.Invoke([review]));
        Assert.Equal("POSITIVE", result.Label);
    }

    /// <summary>
    /// SST-2 dev (872 sentences, tests/fixtures): the accuracy the model card reports, to the sentence.
    /// Inference is deterministic, so any change to the model, the tokenizer or the kernels that moves
    /// a prediction shows here.
    /// </summary>
    [Fact]
    public void Sst2DevAccuracyIsTheOneTheModelCardReports()
    {
        var (correct, total) = ClassifySst2Dev(InferencePrecision.Float32);
        Assert.Equal(872, total);
        Assert.Equal(ExpectedSst2DevCorrect, correct);
        Assert.True(correct >= 0.80 * total, $"SST-2 dev accuracy {correct}/{total} is below the 80% the default model must reach");
    }

    /// <summary>
    /// Issue 6, goal 7: int8 dynamic quantization (opt-in) loses at most 0.5 points on SST-2 dev, i.e. at
    /// most 4 of the 872 sentences (measured: 719 against 720; one prediction of 872 differs).
    /// </summary>
    [Fact]
    public void Int8KeepsTheSst2DevAccuracyWithinHalfAPoint()
    {
        var (correct, total) = ClassifySst2Dev(InferencePrecision.Int8);
        Assert.InRange(correct, ExpectedSst2DevCorrect - 4, total);
    }

    /// <summary>The default model's correct predictions on SST-2 dev (tests/fixtures) at a precision, and the sentence count.</summary>
    private static (int Correct, int Total) ClassifySst2Dev(InferencePrecision precision)
    {
        var rows = File.ReadAllLines(Fixtures.Dataset("sst2/dev.tsv")).Skip(1).Select(line => line.Split('\t')).ToList();
        using var classifier = Pipeline("sentiment-analysis", options: new() { Truncation = true, BatchSize = 32 });
        classifier.Model.InferencePrecision = precision;
        var results = classifier.Invoke(rows.Select(r => r[0]).ToList());
        int correct = results.Zip(rows).Count(p => (p.First.Label == "POSITIVE" ? "1" : "0") == p.Second[1].Trim());
        return (correct, rows.Count);
    }

    /// <summary>Correct SST-2 dev predictions of the shipped model (see models/default-sentiment/README.md).</summary>
    private const int ExpectedSst2DevCorrect = 720;
}
