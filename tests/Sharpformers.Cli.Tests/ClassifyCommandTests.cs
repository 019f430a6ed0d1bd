using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

/// <summary>`sharpformers classify` in-process, offline, on the tiny fixtures; scores checked against transformers' pipeline goldens.</summary>
public sealed class ClassifyCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("classify-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(input), Out = stdout, Error = stderr };
        int code = new CliApp(CommandRegistry.All()).Run(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    [Theory]
    [InlineData("tiny-distilbert")]
    [InlineData("tiny-bert")]
    [InlineData("tiny-roberta")]
    [InlineData("tiny-xlm-roberta")]
    [InlineData("tiny-electra")]
    [InlineData("tiny-albert")]
    [InlineData("tiny-deberta-v2")]
    public void TableShowsTheBestLabelPerText(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        var texts = golden.GetProperty("texts").Strings().Take(3).ToArray();
        var (code, output, err) = Run(["classify", "--model", Fixtures.Model(name), .. texts]);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("LABEL", lines[0]);
        for (int i = 0; i < 3; i++)
        {
            var expected = golden.GetProperty("default")[i];
            var columns = lines[i + 1].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(expected.GetProperty("label").GetString(), columns[0]);
            Assert.Equal(expected.GetProperty("score").GetDouble().ToString("F4", System.Globalization.CultureInfo.InvariantCulture), columns[1]);
            Assert.Equal(texts[i], columns[2]);
        }
    }

    [Theory]
    [InlineData("tiny-distilbert")]
    [InlineData("tiny-bert")]
    public void JsonLinesCarryLabelScoreAndLogits(string name)
    {
        var golden = Goldens.Load(name).GetProperty("pipeline_text_classification");
        var texts = golden.GetProperty("texts").Strings();
        string file = Path.Combine(dir, "texts.txt");
        File.WriteAllText(file, string.Join("\n", texts.Select(t => t.Replace('\n', ' ').Replace('\t', ' ')).Where(t => t.Length > 0)) + "\n\n");
        var (code, output, _) = Run("classify", "--model", Fixtures.Model(name), "--input", file, "--format", "jsonl", "--batch-size", "3");
        Assert.Equal(0, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(texts.Count(t => t.Length > 0), lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var root = first.RootElement;
        Assert.Equal(["label", "score", "logits"], root.EnumerateObject().Select(p => p.Name));
        var expected = golden.GetProperty("default")[0];
        Assert.Equal(expected.GetProperty("label").GetString(), root.GetProperty("label").GetString());
        Assert.Equal(expected.GetProperty("score").GetDouble(), root.GetProperty("score").GetDouble(), 1e-5);
        Assert.Equal(Goldens.Load(name).GetProperty("sequence_classification").GetProperty("num_labels").GetInt32(), root.GetProperty("logits").GetArrayLength());
    }

    [Fact]
    public void JsonLinesInputWithPairsAndTopKAll()
    {
        var golden = Goldens.Load("tiny-bert").GetProperty("pipeline_text_classification");
        var pair = golden.GetProperty("pair_input");
        string file = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllText(file, JsonSerializer.Serialize(new { text = pair.GetProperty("text").GetString(), text_pair = pair.GetProperty("text_pair").GetString() }) + "\n");
        var (code, output, _) = Run("classify", "--model", Fixtures.Model("tiny-bert"), "--input", file, "--format", "jsonl", "--top-k", "all");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output.Trim());
        var ranked = doc.RootElement.GetProperty("top_k").EnumerateArray().ToList();
        var expected = golden.GetProperty("pair_top_k_none").EnumerateArray().ToList();
        Assert.Equal(expected.Count, ranked.Count);
        for (int k = 0; k < expected.Count; k++)
        {
            Assert.Equal(expected[k].GetProperty("label").GetString(), ranked[k].GetProperty("label").GetString());
            Assert.Equal(expected[k].GetProperty("score").GetDouble(), ranked[k].GetProperty("score").GetDouble(), 1e-5);
        }
    }

    [Fact]
    public void ReadsStandardInput()
    {
        var (code, output, _) = RunWithInput("I hate this so much!\n", "classify", "--model", Fixtures.Model("tiny-distilbert"), "--input", "-", "--top-k", "2");
        Assert.Equal(0, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("I hate this so much!", lines[1]);
        Assert.StartsWith("POSITIVE", lines[2]);
    }

    [Fact]
    public void WithoutModelTheBundledDefaultModelClassifiesOffline()
    {
        var (code, output, err) = Run("classify", "--format", "jsonl", "I love this film, it is wonderful.", "I hate this so much!");
        Assert.True(code == 0, err);
        var labels = output.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement.GetProperty("label").GetString()).ToList();
        Assert.Equal(["POSITIVE", "NEGATIVE"], labels);

        (code, _, err) = Run("classify");
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: no text to classify", err);
    }

    [Fact]
    public void QuantizeInt8RunsTheInt8PathAndStaysClose()
    {
        string[] texts = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"];
        static List<double[]> Logits(string output) => output.TrimEnd('\n').Split('\n')
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("logits").EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToList();
        var (code, f32, err) = Run(["classify", "--model", Fixtures.Model("tiny-distilbert"), "--format", "jsonl", .. texts]);
        Assert.True(code == 0, err);
        (code, var i8, err) = Run(["classify", "--model", Fixtures.Model("tiny-distilbert"), "--format", "jsonl", "--quantize", "int8", .. texts]);
        Assert.True(code == 0, err);
        var (a, b) = (Logits(f32), Logits(i8));
        Assert.NotEqual(a.SelectMany(x => x), b.SelectMany(x => x));
        Assert.All(a.Zip(b), p => Assert.All(p.First.Zip(p.Second), q => Assert.True(Math.Abs(q.First - q.Second) < 0.05, $"{q.First} vs {q.Second}")));

        (code, _, err) = Run("classify", "--model", Fixtures.Model("tiny-distilbert"), "--quantize", "int4", "x");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("'--quantize' expects one of none, int8", err);
    }

    [Fact]
    public void UsageAndInputErrorsAreOneLine()
    {
        var (code, _, err) = Run("classify", "--model", Fixtures.Model("tiny-bert"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: no text to classify", err);

        (code, _, err) = Run("classify", "--model", Fixtures.Model("tiny-bert"), "--top-k", "0", "x");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("'--top-k' expects a positive integer or 'all'", err);

        string bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n");
        (code, _, err) = Run("classify", "--model", Fixtures.Model("tiny-bert"), "--input", bad);
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Equal($"error: {bad} line 2: expected a JSON object with a \"text\" string.", err.Trim());

        string latin1 = Path.Combine(dir, "latin1.txt");
        File.WriteAllBytes(latin1, [0x63, 0x61, 0x66, 0xE9, 0x0A]);
        (code, _, err) = Run("classify", "--model", Fixtures.Model("tiny-bert"), "--input", latin1);
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith($"error: {latin1} is not valid UTF-8", err);

        (code, _, err) = Run("classify", "--model", dir, "x");
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
