using System.Text.Json;
using Sharpformers.Cli;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;

namespace Sharpformers.Cli.Tests;

public sealed class BenchCommandTests
{
    private static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(""), Out = stdout, Error = stderr };
        int exit = new CliApp(CommandRegistry.All()).Run(args, context);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void SgemmWritesOneJsonLinePerSizeAndThreadCount()
    {
        int threadsBefore = KernelParallel.MaxThreads;
        string output = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (exit, stdout, stderr) = Run("bench", "sgemm", "--sizes", "40,8x24x16", "--threads", "1,2", "--repeats", "3", "--warmup", "1", "--output", output);
            Assert.Equal(0, exit);
            Assert.Equal("", stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            Assert.Equal(stdout, File.ReadAllText(output));
            var expected = new[] { (40, 40, 40, 1), (40, 40, 40, 2), (8, 24, 16, 1), (8, 24, 16, 2) };
            for (int i = 0; i < lines.Length; i++)
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var root = doc.RootElement;
                Assert.Equal("sgemm", root.GetProperty("workload").GetString());
                var (m, n, k, threads) = expected[i];
                Assert.Equal(m, root.GetProperty("m").GetInt32());
                Assert.Equal(n, root.GetProperty("n").GetInt32());
                Assert.Equal(k, root.GetProperty("k").GetInt32());
                Assert.Equal(threads, root.GetProperty("threads").GetInt32());
                Assert.Equal(3, root.GetProperty("repeats").GetInt32());
                double min = root.GetProperty("min_s").GetDouble();
                double median = root.GetProperty("median_s").GetDouble();
                double max = root.GetProperty("max_s").GetDouble();
                Assert.True(min > 0 && min <= median && median <= max, lines[i]);
                double gflops = root.GetProperty("gflops").GetDouble();
                Assert.Equal(2.0 * m * n * k / median / 1e9, gflops, 1e-6 * gflops + 1e-9);
            }
            Assert.Equal(threadsBefore, KernelParallel.MaxThreads);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void PackedTransposedVariantRuns()
    {
        var (exit, stdout, _) = Run("bench", "sgemm", "--sizes", "16x96x64", "--threads", "1", "--repeats", "1", "--trans", "nt", "--packed");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout.Trim());
        Assert.Equal("NT", doc.RootElement.GetProperty("trans").GetString());
        Assert.True(doc.RootElement.GetProperty("packed").GetBoolean());
    }

    [Theory]
    [InlineData("error: name a workload", "bench")]
    [InlineData("error: unknown workload 'gemm'", "bench", "gemm")]
    [InlineData("error: option '--sizes' expects N or MxNxK", "bench", "sgemm", "--sizes", "12x3")]
    [InlineData("error: option '--threads' expects comma-separated integers of at least 1", "bench", "sgemm", "--threads", "0")]
    [InlineData("error: option '--trans' expects two letters", "bench", "sgemm", "--trans", "NX")]
    [InlineData("error: option '--repeats' must be at least 1", "bench", "sgemm", "--repeats", "0")]
    public void BadArgumentsAreUsageErrors(string message, params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(CliApp.UsageError, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith(message, stderr);
    }
}

/// <summary>The model, tokenizer and real-data workloads on the tiny fixtures (fast; the numbers are not checked, only their consistency).</summary>
public sealed class BenchModelWorkloadTests
{
    private static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(""), Out = stdout, Error = stderr };
        int exit = new CliApp(CommandRegistry.All()).Run(args, context);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Theory]
    [InlineData("throughput")]
    [InlineData("latency")]
    public void InferenceWorkloadsReportTheReferencesFields(string workload)
    {
        string model = Sharpformers.TestSupport.Fixtures.Model("tiny-distilbert");
        var (exit, stdout, stderr) = Run("bench", workload, "--model", model, "--batch", "2", "--seq", "5,9", "--threads", "1,2", "--repeats", "2", "--warmup", "1");
        Assert.True(exit == 0, stderr);
        var lines = Lines(stdout);
        Assert.Equal(4, lines.Count);
        foreach (var line in lines)
        {
            Assert.Equal(workload, line.GetProperty("workload").GetString());
            Assert.Equal("fp32", line.GetProperty("precision").GetString());
            int batch = line.GetProperty("batch").GetInt32();
            int seq = line.GetProperty("seq").GetInt32();
            double median = line.GetProperty("median_s").GetDouble();
            Assert.Equal(batch / median, line.GetProperty("seq_per_s").GetDouble(), 6);
            // The reference's formula for 2 layers, dim 32, FFN 37, 2 labels.
            double flops = batch * (2 * (2.0 * seq * (4 * 32 * 32 + 2 * 32 * 37) + 4.0 * seq * seq * 32) + 2 * (32 * 32 + 32 * 2));
            Assert.Equal(flops / 1e9, line.GetProperty("gflop").GetDouble(), 9);
            Assert.Equal(flops / median / 1e9, line.GetProperty("gflops").GetDouble(), 6);
        }
        Assert.Equal([1, 2, 1, 2], lines.Select(l => l.GetProperty("threads").GetInt32()));
        Assert.Equal([5, 5, 9, 9], lines.Select(l => l.GetProperty("seq").GetInt32()));
    }

    [Fact]
    public void TrainStepReportsSamplesPerSecondAndThePhases()
    {
        string model = Sharpformers.TestSupport.Fixtures.Model("tiny-distilbert");
        var (exit, stdout, stderr) = Run("bench", "train-step", "--model", model, "--batch", "3", "--seq", "7", "--threads", "1,2", "--repeats", "3", "--warmup", "1");
        Assert.True(exit == 0, stderr);
        var lines = Lines(stdout);
        Assert.Equal([1, 2], lines.Select(l => l.GetProperty("threads").GetInt32()));
        foreach (var line in lines)
        {
            Assert.Equal("train-step", line.GetProperty("workload").GetString());
            double median = line.GetProperty("median_s").GetDouble();
            Assert.Equal(3 / median, line.GetProperty("samples_per_s").GetDouble(), 6);
            // A step counts three forward passes of the reference's formula (batch 3; 2 layers, dim 32, FFN 37, 2 labels).
            double forward = 3 * (2 * (2.0 * 7 * (4 * 32 * 32 + 2 * 32 * 37) + 4.0 * 7 * 7 * 32) + 2 * (32 * 32 + 32 * 2));
            Assert.Equal(3 * forward / 1e9, line.GetProperty("gflop").GetDouble(), 9);
            double phases = line.GetProperty("forward_s").GetDouble() + line.GetProperty("backward_s").GetDouble() + line.GetProperty("adamw_s").GetDouble();
            Assert.InRange(phases, 0.5 * line.GetProperty("min_s").GetDouble(), 1.5 * line.GetProperty("max_s").GetDouble());
        }
    }

    [Fact]
    public void TrainStepNeedsAnArchitectureWithBackwardPasses()
    {
        var (exit, _, stderr) = Run("bench", "train-step", "--model", Sharpformers.TestSupport.Fixtures.Model("tiny-roberta"), "--threads", "1", "--repeats", "1");
        Assert.Equal(2, exit);
        Assert.Contains("has no backward pass", stderr);
    }

    [Fact]
    public void Int8IsSelectedByQuantize()
    {
        string model = Sharpformers.TestSupport.Fixtures.Model("tiny-bert");
        var (exit, stdout, stderr) = Run("bench", "latency", "--model", model, "--seq", "6", "--threads", "1", "--repeats", "1", "--quantize", "int8");
        Assert.True(exit == 0, stderr);
        Assert.Equal("int8", Lines(stdout).Single().GetProperty("precision").GetString());
    }

    [Fact]
    public void ColdStartChildLoadsClassifiesAndReportsMemory()
    {
        string model = Sharpformers.TestSupport.Fixtures.Model("tiny-distilbert");
        var (exit, stdout, stderr) = Run("bench", "cold-start", "--child", model);
        Assert.True(exit == 0, stderr);
        var report = Lines(stdout).Single();
        Assert.Contains(report.GetProperty("label").GetString(), new[] { "NEGATIVE", "POSITIVE" });
        Assert.True(report.GetProperty("load_s").GetDouble() > 0);
        Assert.True(report.GetProperty("classify_s").GetDouble() > 0);
        if (OperatingSystem.IsLinux()) Assert.True(report.GetProperty("peak_rss_bytes").GetInt64() > 10_000_000, "a .NET process holds more than 10 MB");
    }

    [Fact]
    public void TokenizerMeasuresMegabytesPerSecond()
    {
        string data = Path.Combine(Path.GetTempPath(), $"bench-texts-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(data, ["Hello world, this is a test.", "Another line of text for the tokenizer!", "ünïcödé too"]);
        try
        {
            string vocab = Sharpformers.TestSupport.Fixtures.Model("tiny-bert");
            var (exit, stdout, stderr) = Run("bench", "tokenizer", "--data", data, "--tokenizer", vocab, "--threads", "1,2", "--repeats", "3", "--warmup", "1");
            Assert.True(exit == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal(2, lines.Count);
            long bytes = System.Text.Encoding.UTF8.GetByteCount("Hello world, this is a test.Another line of text for the tokenizer!ünïcödé too");
            foreach (var line in lines)
            {
                Assert.Equal(3, line.GetProperty("texts").GetInt32());
                Assert.Equal(bytes, line.GetProperty("bytes").GetInt64());
                Assert.True(line.GetProperty("tokens").GetInt64() > 10);
                Assert.Equal(bytes / line.GetProperty("median_s").GetDouble() / 1e6, line.GetProperty("mb_per_s").GetDouble(), 6);
            }
        }
        finally
        {
            File.Delete(data);
        }
    }

    [Fact]
    public void RealDataClassifiesIdsAndTextsAndWritesTheIdsForTheReference()
    {
        string data = Path.Combine(Path.GetTempPath(), $"bench-corpus-{Guid.NewGuid():N}.txt");
        string ids = Path.ChangeExtension(data, ".jsonl");
        var texts = Enumerable.Range(0, 40).Select(i => string.Join(" ", Enumerable.Repeat("good movie", 1 + i % 7)) + $" number {i}").ToArray();
        File.WriteAllLines(data, texts);
        try
        {
            string model = Sharpformers.TestSupport.Fixtures.Model("tiny-bert");
            var (exit, stdout, stderr) = Run("bench", "real-data", "--model", model, "--data", data, "--write-ids", ids, "--batch", "8",
                "--max-length", "16", "--threads", "1", "--repeats", "1");
            Assert.True(exit == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal(["ids", "end-to-end"], lines.Select(l => l.GetProperty("mode").GetString()));
            Assert.All(lines, l => Assert.Equal(40, l.GetProperty("sequences").GetInt32()));
            var written = File.ReadAllLines(ids);
            Assert.Equal(40, written.Length);
            long tokens = written.Sum(l => (long)JsonDocument.Parse(l).RootElement.GetProperty("input_ids").GetArrayLength());
            Assert.Equal(tokens, lines[0].GetProperty("tokens").GetInt64());
            Assert.All(written, l => Assert.InRange(JsonDocument.Parse(l).RootElement.GetProperty("input_ids").GetArrayLength(), 3, 16));
            // Sorting by length pads less than batching in file order.
            Assert.True(lines[0].GetProperty("our_padded_tokens").GetInt64() <= lines[0].GetProperty("file_order_padded_tokens").GetInt64());

            (exit, stdout, stderr) = Run("bench", "real-data", "--model", model, "--ids", ids, "--limit", "10", "--threads", "1", "--repeats", "1");
            Assert.True(exit == 0, stderr);
            var only = Lines(stdout).Single();
            Assert.Equal("ids", only.GetProperty("mode").GetString());
            Assert.Equal(10, only.GetProperty("sequences").GetInt32());
        }
        finally
        {
            File.Delete(data);
            File.Delete(ids);
        }
    }

    [Fact]
    public void OnlyWriteIdsWritesTheSameIdsWithoutTimingAnything()
    {
        string data = Path.Combine(Path.GetTempPath(), $"bench-corpus-{Guid.NewGuid():N}.txt");
        string timed = Path.ChangeExtension(data, ".timed.jsonl");
        string only = Path.ChangeExtension(data, ".only.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 12).Select(i => string.Join(" ", Enumerable.Repeat("a dull film", 1 + i)) + $" number {i}"));
        try
        {
            string model = Sharpformers.TestSupport.Fixtures.Model("tiny-bert");
            var (exit, _, stderr) = Run("bench", "real-data", "--model", model, "--data", data, "--write-ids", timed, "--batch", "4",
                "--max-length", "16", "--threads", "1", "--repeats", "1");
            Assert.True(exit == 0, stderr);

            (exit, var stdout, stderr) = Run("bench", "real-data", "--model", model, "--data", data, "--write-ids", only, "--max-length", "16", "--only-write-ids");
            Assert.True(exit == 0, stderr);
            Assert.Equal("", stdout);
            Assert.Equal(File.ReadAllText(timed), File.ReadAllText(only));
            // Longer texts are cut to --max-length, the last kept id still the separator.
            var rows = File.ReadAllLines(only).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
            Assert.Equal(12, rows.Count);
            Assert.Equal(16, rows[^1].Length);
            Assert.True(rows[0].Length < 16);
            Assert.All(rows, r => Assert.Equal(rows[0][^1], r[^1]));
        }
        finally
        {
            File.Delete(data);
            File.Delete(timed);
            File.Delete(only);
        }
    }

    [Theory]
    [InlineData(new[] { "--only-write-ids" }, "--only-write-ids needs --write-ids FILE")]
    [InlineData(new[] { "--only-write-ids", "--write-ids", "unused.jsonl", "--ids", "in.jsonl" }, "cannot be combined with --ids")]
    public void OnlyWriteIdsRejectsMissingOrConflictingOptions(string[] options, string message)
    {
        var (exit, stdout, stderr) = Run(["bench", "real-data", .. options]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists("unused.jsonl"));
    }

    [Fact]
    public void AccuracyComparesFloat32AndInt8OnALabelledFile()
    {
        string tsv = Path.Combine(Path.GetTempPath(), $"bench-labels-{Guid.NewGuid():N}.tsv");
        File.WriteAllLines(tsv, ["sentence\tlabel", "a charming and affecting journey . \t1", "bleak and desperate \t0", "the best film of the year\t1", "dull , flat and lifeless\t0"]);
        try
        {
            var (exit, stdout, stderr) = Run("bench", "accuracy", "--model", Sharpformers.TestSupport.Fixtures.Model("tiny-distilbert"), "--tsv", tsv, "--batch", "2", "--threads", "1");
            Assert.True(exit == 0, stderr);
            var line = Lines(stdout).Single();
            Assert.Equal(4, line.GetProperty("examples").GetInt32());
            double fp32 = line.GetProperty("fp32_accuracy").GetDouble();
            double int8 = line.GetProperty("int8_accuracy").GetDouble();
            Assert.Contains(fp32, new[] { 0.0, 25, 50, 75, 100 });
            Assert.Equal(fp32 - int8, line.GetProperty("points_lost").GetDouble(), 9);
            Assert.InRange(line.GetProperty("agreement").GetDouble(), 0, 1);
            Assert.True(line.GetProperty("max_logit_diff").GetDouble() > 0, "int8 logits should differ a little from float32");
        }
        finally
        {
            File.Delete(tsv);
        }
    }

    [Theory]
    [InlineData("error: option '--shape' expects one of distilbert-base, bert-base", "bench", "throughput", "--shape", "gpt2")]
    [InlineData("error: option '--quantize' expects one of none, int8", "bench", "latency", "--quantize", "int4")]
    [InlineData("error: give either '--model DIR' or '--shape NAME'", "bench", "latency", "--model", "x", "--shape", "bert-base")]
    [InlineData("error: option '--sizes' belongs to the 'sgemm' workload", "bench", "throughput", "--sizes", "4")]
    public void BadModelWorkloadArgumentsAreUsageErrors(string message, params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(CliApp.UsageError, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith(message, stderr);
    }

    [Fact]
    public void AMalformedIdsFileIsAOneLineError()
    {
        string ids = Path.Combine(Path.GetTempPath(), $"bad-ids-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(ids, ["{\"input_ids\": [101, 102]}", "{\"text\": \"no ids\"}"]);
        try
        {
            var (exit, _, stderr) = Run("bench", "real-data", "--model", Sharpformers.TestSupport.Fixtures.Model("tiny-bert"), "--ids", ids, "--threads", "1", "--repeats", "1");
            Assert.NotEqual(0, exit);
            Assert.StartsWith("error: ", stderr);
            Assert.Contains("line 2", stderr);
            Assert.Contains("input_ids", stderr);
        }
        finally
        {
            File.Delete(ids);
        }
    }
}
