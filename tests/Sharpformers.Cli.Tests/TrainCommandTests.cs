using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Models;
using Sharpformers.Tensors.Formats;
using Sharpformers.TestSupport;
using Xunit.Abstractions;

namespace Sharpformers.Cli.Tests;

/// <summary>
/// `sharpformers train` in-process on tiny-distilbert / tiny-bert and the first 512 SST-2 training
/// sentences (tests/fixtures/datasets/sst2): issue 4's acceptance runs (per-step losses in
/// trainer_state.json, two runs identical, a resumed run equal to the uninterrupted one) and
/// run_glue's outputs. Training keeps both cores busy, so these run on their own, after the
/// parallel tests (timing-sensitive neighbours such as the loopback Hub tests are not starved).
/// </summary>
[Collection(TrainingRuns.Name)]
public sealed class TrainCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("train-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly string Sst2 = Fixtures.Dataset("sst2/train-first-512.tsv");

    /// <summary>Issue 4, acceptance 2: batch 16, file order, dropout 0, lr 1e-3, 64 steps, linear schedule with 10 warmup steps, clipping at 1.0, a log every step.</summary>
    private static string[] AcceptanceRun(string outputDir) =>
    [
        "train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", outputDir,
        "--per-device-train-batch-size", "16", "--no-shuffle", "--config-overrides", "dropout=0,attention_dropout=0,seq_classif_dropout=0",
        "--learning-rate", "1e-3", "--max-steps", "64", "--lr-scheduler-type", "linear", "--warmup-steps", "10", "--max-grad-norm", "1.0",
        "--logging-steps", "1", "--save-steps", "32",
    ];

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(""), Out = stdout, Error = stderr };
        int code = new CliApp(CommandRegistry.All()).Run(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static List<Dictionary<string, JsonElement>> LogHistory(string outputDir)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "trainer_state.json")));
        return state.RootElement.GetProperty("log_history").EnumerateArray()
            .Select(e => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())).ToList();
    }

    private static double[] Losses(string outputDir) =>
        LogHistory(outputDir).Where(e => e.ContainsKey("loss")).Select(e => e["loss"].GetDouble()).ToArray();

    private static Dictionary<string, float[]> Weights(string folder)
    {
        using var reader = CheckpointFiles.Open(folder);
        return reader.Tensors.ToDictionary(t => t.Name, t =>
        {
            var values = new float[t.ElementCount];
            reader.ReadAsFloat32(t.Name, values);
            return values;
        });
    }

    [Fact]
    public void AcceptanceRunsAreDeterministicAndResumeExactly()
    {
        string first = Path.Combine(dir, "first");
        var (code, stdout, stderr) = Run(AcceptanceRun(first));
        Assert.True(code == 0, stderr);
        Assert.Contains("***** train metrics *****", stdout);

        // Every step is logged with HF's keys, in trainer_state.json.
        var history = LogHistory(first);
        var steps = history.Where(e => e.ContainsKey("loss")).ToList();
        Assert.Equal(64, steps.Count);
        Assert.Equal(Enumerable.Range(1, 64), steps.Select(e => e["step"].GetInt32()));
        Assert.Equal(["epoch", "grad_norm", "learning_rate", "loss", "step"], steps[0].Keys.Order(StringComparer.Ordinal));
        // Linear schedule: 10 warmup steps to 1e-3, then down to 0 at step 64 (logged after the scheduler step).
        Assert.Equal(1e-4, steps[0]["learning_rate"].GetDouble(), 12);
        Assert.Equal(1e-3, steps[9]["learning_rate"].GetDouble(), 12);
        Assert.Equal(0.0, steps[63]["learning_rate"].GetDouble(), 12);
        Assert.Equal(2.0, steps[63]["epoch"].GetDouble());
        var losses = Losses(first);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0));
        output.WriteLine($"loss curve: first {losses[0]}, last {losses[^1]}; mean of the first 8 {losses.Take(8).Average():F4}, of the last 8 {losses.TakeLast(8).Average():F4}");

        // A second run gives the same losses and the same weights, bit for bit.
        string second = Path.Combine(dir, "second");
        Assert.Equal(0, Run(AcceptanceRun(second)).Code);
        Assert.Equal(losses, Losses(second));
        var finalWeights = Weights(first);
        Assert.Equal(finalWeights, Weights(second));

        // Acceptance 3: a run resumed from checkpoint-32 (a copy of the first run's: model, optimizer, scheduler, RNG and data position)
        // continues the same loss curve and ends with the same weights.
        string resumed = Path.Combine(dir, "resumed");
        CopyDirectory(Path.Combine(first, "checkpoint-32"), Path.Combine(resumed, "checkpoint-32"));
        var (resumedCode, _, resumedErr) = Run([.. AcceptanceRun(resumed), "--resume-from-checkpoint", Path.Combine(resumed, "checkpoint-32")]);
        Assert.True(resumedCode == 0, resumedErr);
        var resumedLosses = Losses(resumed);
        Assert.Equal(64, resumedLosses.Length);
        for (int i = 0; i < 64; i++) Assert.True(Math.Abs(losses[i] - resumedLosses[i]) <= 1e-6, $"step {i + 1}: {losses[i]} vs resumed {resumedLosses[i]}");
        Assert.Equal(finalWeights, Weights(resumed));

        // An output dir with checkpoints resumes from the latest by itself (run_glue's rule) — here there is nothing left to do.
        var (againCode, _, againErr) = Run(AcceptanceRun(first));
        Assert.True(againCode == 0, againErr);
        Assert.Contains("Checkpoint detected, resuming training at", againErr);
    }

    [Fact]
    public void OutputFolderIsAnHfModelFolderThatClassifyLoads()
    {
        string outputDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", outputDir,
            "--max-steps", "4", "--per-device-train-batch-size", "8", "--logging-steps", "2", "--save-strategy", "no");
        Assert.True(code == 0, stderr);
        foreach (string file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                     "trainer_state.json", "all_results.json", "train_results.json", "training_args.json" })
        {
            Assert.True(File.Exists(Path.Combine(outputDir, file)), $"{file} is missing");
        }
        Assert.Empty(Directory.GetDirectories(outputDir)); // --save-strategy no: no checkpoint folders

        // model.safetensors as transformers writes it: {"format": "pt"} metadata, state_dict names.
        byte[] bytes = File.ReadAllBytes(Path.Combine(outputDir, "model.safetensors"));
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.True(header.RootElement.TryGetProperty("distilbert.transformer.layer.1.ffn.lin2.weight", out _));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")));
        Assert.Equal("DistilBertForSequenceClassification", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.Equal("NEGATIVE", config.RootElement.GetProperty("id2label").GetProperty("0").GetString()); // SST-2's 0/1 keep the model's names

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "all_results.json")));
        Assert.Equal(["epoch", "total_flos", "train_loss", "train_runtime", "train_samples", "train_samples_per_second", "train_steps_per_second"],
            results.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(512, results.RootElement.GetProperty("train_samples").GetInt32());

        // The trained folder classifies, and with the weights training produced.
        var (classifyCode, classified, classifyErr) = Run("classify", "--model", outputDir, "--format", "jsonl", "a gripping , funny film");
        Assert.True(classifyCode == 0, classifyErr);
        using var trained = AutoModelForSequenceClassification.FromPretrained(outputDir);
        using var original = AutoModelForSequenceClassification.FromPretrained(Fixtures.Model("tiny-distilbert"));
        Assert.NotEqual(original.Parameters["classifier.weight"].Value.Span.ToArray(), trained.Parameters["classifier.weight"].Value.Span.ToArray());
        Assert.Contains("\"label\"", classified);
    }

    /// <summary>
    /// The trained folder in PyTorch: ../shared/reference/pure_torch_distilbert.py (HF's DistilBERT in
    /// plain torch, HF parameter names) loads config.json + model.safetensors strictly and gives our logits.
    /// Needs /usr/bin/python3 with torch and ../shared (skipped, and reported so, otherwise).
    /// </summary>
    [PythonTorchFact]
    public void PyTorchLoadsTheTrainedFolderAndAgreesOnLogits()
    {
        string outputDir = Path.Combine(dir, "out");
        var (code, _, stderr) = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", outputDir,
            "--max-steps", "8", "--learning-rate", "1e-3", "--save-strategy", "no");
        Assert.True(code == 0, stderr);
        var encoded = RunWithInput("{\"text\": \"a gripping , funny film\"}\n", "tokenize", "--model", outputDir);
        using var ids = JsonDocument.Parse(encoded.Out.Split('\n')[0]);
        string idList = string.Join(",", ids.RootElement.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()));
        var ours = Run("classify", "--model", outputDir, "--format", "jsonl", "a gripping , funny film");
        using var oursJson = JsonDocument.Parse(ours.Out);
        var expected = oursJson.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        var python = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { Path.Combine(Fixtures.SharedDir!, "reference", "pure_torch_distilbert.py"), "--logits", "--model-dir", outputDir, "--ids", idList },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(python)!;
        string text = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "python did not finish");
        Assert.True(process.ExitCode == 0, error);
        using var torch = JsonDocument.Parse(text.Trim().Split('\n')[^1]);
        var actual = torch.RootElement.GetProperty("logits")[0].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    private static (int Code, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(input), Out = stdout, Error = stderr };
        int code = new CliApp(CommandRegistry.All()).Run(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void TrainingWritesToMappedWeightsWithoutTouchingTheCheckpoint()
    {
        // The model is loaded memory-mapped copy-on-write: training updates private pages only.
        string copy = Path.Combine(dir, "model");
        CopyDirectory(Fixtures.Model("tiny-distilbert"), copy);
        byte[] before = File.ReadAllBytes(Path.Combine(copy, "model.safetensors"));
        var (code, _, stderr) = Run("train", "--model", copy, "--train", Sst2, "--output-dir", Path.Combine(dir, "out"), "--max-steps", "2", "--save-strategy", "no");
        Assert.True(code == 0, stderr);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(copy, "model.safetensors")));
        Assert.NotEqual(Weights(copy)["classifier.weight"], Weights(Path.Combine(dir, "out"))["classifier.weight"]);
    }

    [Fact]
    public void ValidationEvaluationBestModelAndNewLabels()
    {
        string outputDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = Run("train", "--model", Fixtures.Model("tiny-bert"), "--train", Sst2, "--validation", Sst2,
            "--labels", "NEG,POS", "--output-dir", outputDir, "--num-train-epochs", "2", "--per-device-train-batch-size", "32",
            "--eval-strategy", "epoch", "--save-strategy", "epoch", "--load-best-model-at-end", "--metric-for-best-model", "accuracy",
            "--save-total-limit", "1", "--learning-rate", "1e-3", "--logging-strategy", "epoch", "--disable-tqdm");
        Assert.True(code == 0, stderr);
        // tiny-bert has 3 labels: the head is re-initialised for 2, with transformers' report.
        Assert.Contains("newly initialized because the shapes did not match", stderr);
        Assert.Contains("classifier.weight: found shape [3, 32] in the checkpoint and [2, 32] in the model instantiated", stderr);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")));
        Assert.Equal("POS", config.RootElement.GetProperty("id2label").GetProperty("1").GetString());
        Assert.Equal(0, config.RootElement.GetProperty("label2id").GetProperty("NEG").GetInt32());

        var history = LogHistory(outputDir);
        var evaluations = history.Where(e => e.ContainsKey("eval_loss")).ToList();
        Assert.Equal(3, evaluations.Count); // one per epoch, then run_glue's final evaluate() (also logged, as in HF)
        Assert.Equal([1.0, 2.0, 2.0], evaluations.Select(e => e["epoch"].GetDouble()));
        Assert.Equal(["epoch", "eval_accuracy", "eval_f1", "eval_loss", "eval_precision", "eval_recall", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "step"],
            evaluations[0].Keys.Order(StringComparer.Ordinal));
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "trainer_state.json")));
        string best = state.RootElement.GetProperty("best_model_checkpoint").GetString()!;
        double bestAccuracy = state.RootElement.GetProperty("best_metric").GetDouble();
        Assert.Equal(evaluations.Max(e => e["eval_accuracy"].GetDouble()), bestAccuracy);
        // save_total_limit 1: only the best checkpoint remains; the saved model is the best one.
        Assert.Equal([Path.GetFileName(best)], Directory.GetDirectories(outputDir).Select(Path.GetFileName));
        Assert.Contains("Saved the best model", stdout);
        Assert.Equal(Weights(best)["classifier.weight"], Weights(outputDir)["classifier.weight"]);

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "all_results.json")));
        Assert.Equal(bestAccuracy, results.RootElement.GetProperty("eval_accuracy").GetDouble());
        Assert.Equal(512, results.RootElement.GetProperty("eval_samples").GetInt32());
        Assert.True(results.RootElement.TryGetProperty("train_loss", out _));
    }

    [Fact]
    public void FlagsMapOntoTrainingArguments()
    {
        string outputDir = Path.Combine(dir, "out");
        var (code, _, stderr) = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", outputDir,
            "--max-steps", "3", "--per-device-train-batch-size", "4", "--gradient-accumulation-steps", "2", "--weight-decay", "0.01",
            "--warmup-ratio", "0.5", "--lr-scheduler-type", "cosine", "--seed", "7", "--save-strategy", "no", "--logging-steps", "1",
            "--group-by-length", "--max-length", "16", "--logging-nan-inf-filter", "false");
        Assert.True(code == 0, stderr);
        using var args = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "training_args.json")));
        var root = args.RootElement;
        Assert.Equal(4, root.GetProperty("per_device_train_batch_size").GetInt32());
        Assert.Equal(2, root.GetProperty("gradient_accumulation_steps").GetInt32());
        Assert.Equal(0.01, root.GetProperty("weight_decay").GetDouble());
        Assert.Equal("cosine", root.GetProperty("lr_scheduler_type").GetString());
        Assert.Equal(7, root.GetProperty("seed").GetInt32());
        Assert.True(root.GetProperty("group_by_length").GetBoolean());
        Assert.False(root.GetProperty("logging_nan_inf_filter").GetBoolean());
        Assert.Equal(3, Losses(outputDir).Length);
        Assert.Contains("inputs truncated to 16 tokens", stderr);
    }

    /// <summary>run_mlm through the CLI: from scratch, packed blocks, a held-out split, and run_mlm's perplexity = exp(eval_loss).</summary>
    [Fact]
    public void MaskedLMFromScratchWritesRunMlmResults()
    {
        string outputDir = Path.Combine(dir, "mlm");
        var (code, stdout, stderr) = Run("train", "--task", "masked-lm", "--config-name", Fixtures.Model("tiny-distilbert"),
            "--tokenizer-name", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--validation-split-percentage", "10",
            "--output-dir", outputDir, "--max-steps", "4", "--per-device-train-batch-size", "8", "--block-size", "32", "--disable-tqdm", "--save-strategy", "no");
        Assert.True(code == 0, stderr);
        Assert.Contains("Saved the final model", stdout);
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "all_results.json")));
        var root = results.RootElement;
        double evalLoss = root.GetProperty("eval_loss").GetDouble();
        Assert.Equal(Math.Exp(evalLoss), root.GetProperty("perplexity").GetDouble(), 1e-9 * Math.Exp(evalLoss));
        // 512 sentences, 10% held out, packed into 32-token blocks: 351 training blocks, 35 evaluation blocks.
        Assert.Equal(351, root.GetProperty("train_samples").GetDouble());
        Assert.Equal(35, root.GetProperty("eval_samples").GetInt32());
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")));
        Assert.Equal("DistilBertForMaskedLM", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.True(File.Exists(Path.Combine(outputDir, "model.safetensors")));
    }

    [Theory]
    [InlineData(new[] { "train", "--train", "x.tsv", "--output-dir", "o" }, "missing required option '--model'")]
    [InlineData(new[] { "train", "--model", "m", "--train", "x.tsv", "--output-dir", "o", "--learning-rate", "fast" }, "--learning-rate: learning_rate: 'fast'")]
    [InlineData(new[] { "train", "--model", "m", "--train", "x.tsv", "--output-dir", "o", "--eval-strategy", "epoch", "--save-strategy", "steps", "--load-best-model-at-end" },
        "--load_best_model_at_end requires the save and eval strategy to match")]
    [InlineData(new[] { "train", "--model", "m", "--train", "x.tsv", "--output-dir", "o", "--labels", "a,,b" }, "--labels expects comma-separated class names")]
    [InlineData(new[] { "train", "--model", "m", "--train", "x.tsv", "--output-dir", "o", "--config-overrides", "dropout" }, "'dropout' is not of the form key=value")]
    public void UsageErrorsAreOneLine(string[] args, string expected)
    {
        var (code, _, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void BadInputsAreOneLineErrors()
    {
        string outputDir = Path.Combine(dir, "out");
        var missing = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Path.Combine(dir, "nope.tsv"), "--output-dir", outputDir);
        Assert.Equal(1, missing.Code);
        Assert.StartsWith("error: Data not found:", missing.Err);

        string unlabelled = Path.Combine(dir, "test.tsv");
        File.WriteAllText(unlabelled, "index\tsentence\n0\tgood\n1\tbad\n");
        var noLabels = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", unlabelled, "--output-dir", outputDir);
        Assert.Equal(1, noLabels.Code);
        Assert.Contains("has no label column", noLabels.Err);

        Directory.CreateDirectory(outputDir);
        File.WriteAllText(Path.Combine(outputDir, "notes.txt"), "mine");
        var notEmpty = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", outputDir);
        Assert.Equal(2, notEmpty.Code);
        Assert.Contains("already exists and is not empty. Use --overwrite-output-dir", notEmpty.Err);

        var badOverride = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", Path.Combine(dir, "o2"), "--config-overrides", "hidden_dropout_prob=0");
        Assert.Equal(1, badOverride.Code);
        Assert.Contains("'hidden_dropout_prob' is not a field of this distilbert config", badOverride.Err);
        Assert.Single(badOverride.Err.Trim().Split('\n'));
    }

    [Fact]
    public void DivergingLossStopsWithOneClearLine()
    {
        var (code, _, stderr) = Run("train", "--model", Fixtures.Model("tiny-distilbert"), "--train", Sst2, "--output-dir", Path.Combine(dir, "out"),
            "--learning-rate", "1e30", "--max-steps", "10", "--disable-tqdm");
        Assert.Equal(1, code);
        var errors = stderr.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Matches(@"^error: The training loss became (NaN|inf|-inf) at step \d+ \(epoch [\d.]+\) with learning rate .*; training stopped\.", errors[0]);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string sub in Directory.GetDirectories(from)) CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
    }
}

/// <summary>A fact that needs /usr/bin/python3 with torch and the shared folder's PyTorch reference; skipped (reported) otherwise.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (Fixtures.SharedDir is not { } shared || !File.Exists(Path.Combine(shared, "reference", "pure_torch_distilbert.py")))
        {
            return "needs ../shared/reference/pure_torch_distilbert.py";
        }
        if (!File.Exists("/usr/bin/python3")) return "needs /usr/bin/python3 with torch";
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", "-c \"import torch\"")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            process.StandardError.ReadToEnd();
            return process.WaitForExit(60_000) && process.ExitCode == 0 ? null : "needs torch for /usr/bin/python3 (apt-get install python3-torch)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "needs /usr/bin/python3 with torch";
        }
    });

    public PythonTorchFactAttribute()
    {
        if (Missing.Value is { } reason) Skip = reason;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingRuns
{
    public const string Name = "training runs (not in parallel)";
}
