using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

/// <summary>`sharpformers evaluate` in-process on the tiny models: HF's eval_* keys, values checked against classify's predictions.</summary>
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("evaluate-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly string Sst2 = Fixtures.Dataset("sst2/train-first-512.tsv");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(""), Out = stdout, Error = stderr };
        int code = new CliApp(CommandRegistry.All()).Run(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void JsonHasHuggingFaceKeysAndTheAccuracyOfClassifysPredictions()
    {
        var (code, stdout, stderr) = Run("evaluate", "--model", Fixtures.Model("tiny-distilbert"), "--data", Sst2, "--format", "json", "--batch-size", "32");
        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        using var json = JsonDocument.Parse(lines[0]);
        var root = json.RootElement;
        Assert.Equal(["eval_loss", "eval_accuracy", "eval_precision", "eval_recall", "eval_f1", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "eval_samples"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(512, root.GetProperty("eval_samples").GetInt32());

        // The same predictions through classify: accuracy, binary precision/recall/F1 (positive class 1) and the mean loss.
        var rows = File.ReadAllLines(Sst2).Skip(1).Select(l => l.Split('\t')).ToList();
        string texts = Path.Combine(dir, "texts.txt");
        File.WriteAllLines(texts, rows.Select(r => r[0]));
        var classified = Run("classify", "--model", Fixtures.Model("tiny-distilbert"), "--input", texts, "--format", "jsonl", "--batch-size", "32");
        Assert.Equal(0, classified.Code);
        var predictions = classified.Out.TrimEnd('\n').Split('\n').Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            var logits = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            return logits;
        }).ToList();
        Assert.Equal(rows.Count, predictions.Count);
        var labels = rows.Select(r => int.Parse(r[1])).ToArray();
        var predicted = predictions.Select(l => l[1] > l[0] ? 1 : 0).ToArray();
        double accuracy = labels.Zip(predicted).Count(p => p.First == p.Second) / (double)labels.Length;
        int tp = labels.Zip(predicted).Count(p => p.First == 1 && p.Second == 1);
        double precision = tp / (double)predicted.Count(p => p == 1);
        double recall = tp / (double)labels.Count(l => l == 1);
        double loss = predictions.Zip(labels).Average(p =>
        {
            double max = p.First.Max();
            return max + Math.Log(p.First.Sum(v => Math.Exp(v - max))) - p.First[p.Second];
        });
        Assert.Equal(accuracy, root.GetProperty("eval_accuracy").GetDouble(), 12);
        Assert.Equal(precision, root.GetProperty("eval_precision").GetDouble(), 12);
        Assert.Equal(recall, root.GetProperty("eval_recall").GetDouble(), 12);
        Assert.Equal(2 * precision * recall / (precision + recall), root.GetProperty("eval_f1").GetDouble(), 12);
        Assert.Equal(loss, root.GetProperty("eval_loss").GetDouble(), 5);
    }

    [Fact]
    public void TableAndMacroAveragesForThreeLabels()
    {
        string data = Path.Combine(dir, "three.jsonl");
        File.WriteAllLines(data, ["{\"text\": \"I love it\", \"label\": 2}", "{\"text\": \"meh\", \"label\": 1}", "{\"text\": \"awful\", \"label\": 0}", "{\"text\": \"great fun\", \"label\": 2}"]);
        var (code, stdout, stderr) = Run("evaluate", "--model", Fixtures.Model("tiny-bert"), "--data", data);
        Assert.True(code == 0, stderr);
        Assert.Contains("***** eval metrics *****", stdout);
        Assert.Matches(@"eval_accuracy\s+= (0|0\.25|0\.5|0\.75|1)\.?\d*\n", stdout);
        Assert.Contains("eval_samples            = 4", stdout);
    }

    [Fact]
    public void AclImdbFolderDefaultsToItsTestSplit()
    {
        string root = Path.Combine(dir, "aclImdb");
        foreach (var (split, label, name, text) in new[]
                 {
                     ("test", "pos", "0_9.txt", "A wonderful film."), ("test", "neg", "1_2.txt", "Dull and long."),
                     ("train", "pos", "5_10.txt", "Loved it."), ("train", "neg", "6_1.txt", "Hated it."), ("train", "neg", "7_3.txt", "Boring."),
                 })
        {
            Directory.CreateDirectory(Path.Combine(root, split, label));
            File.WriteAllText(Path.Combine(root, split, label, name), text);
        }
        var (code, stdout, stderr) = Run("evaluate", "--model", Fixtures.Model("tiny-distilbert"), "--data", root, "--format", "json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(2, json.RootElement.GetProperty("eval_samples").GetInt32());
        var train = Run("evaluate", "--model", Fixtures.Model("tiny-distilbert"), "--data", root, "--split", "train", "--format", "json");
        Assert.True(train.Code == 0, train.Err);
        using var trainJson = JsonDocument.Parse(train.Out);
        Assert.Equal(3, trainJson.RootElement.GetProperty("eval_samples").GetInt32());
    }

    /// <summary>Without --model the bundled default model is evaluated: its SST-2 dev accuracy as its model card reports it.</summary>
    [Fact]
    public void WithoutModelTheDefaultModelIsEvaluated()
    {
        var (code, stdout, stderr) = Run("evaluate", "--data", Fixtures.Dataset("sst2/dev.tsv"), "--format", "json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(872, json.RootElement.GetProperty("eval_samples").GetInt32());
        Assert.Equal(DefaultModelSst2DevAccuracy, json.RootElement.GetProperty("eval_accuracy").GetDouble(), 12);
    }

    /// <summary>models/default-sentiment/README.md: correct predictions on SST-2 dev / 872.</summary>
    private const double DefaultModelSst2DevAccuracy = 720.0 / 872;

    [Fact]
    public void BadDataIsOneLine()
    {
        string unlabelled = Path.Combine(dir, "test.tsv");
        File.WriteAllText(unlabelled, "index\tsentence\n0\tgood\n");
        var noLabels = Run("evaluate", "--model", Fixtures.Model("tiny-distilbert"), "--data", unlabelled);
        Assert.Equal(1, noLabels.Code);
        Assert.StartsWith("error: ", noLabels.Err);
        Assert.Contains("evaluation needs labels", noLabels.Err);

        string tooMany = Path.Combine(dir, "five.jsonl");
        File.WriteAllLines(tooMany, Enumerable.Range(0, 5).Select(i => $"{{\"text\": \"t{i}\", \"label\": {i}}}"));
        var classes = Run("evaluate", "--model", Fixtures.Model("tiny-distilbert"), "--data", tooMany);
        Assert.Equal(1, classes.Code);
        Assert.Contains("has 5 classes (0, 1, 2, 3, 4) but the model predicts 2 (NEGATIVE, POSITIVE)", classes.Err);
    }
}
