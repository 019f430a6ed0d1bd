using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

/// <summary>The Trainer loop end to end, on <see cref="ToyClassifier"/> (the BERT models plug in through the same interface).</summary>
public sealed class TrainerLoopTests
{
    private const int Vocab = 40;

    private static TrainingArguments Args(string outputDir) => new()
    {
        OutputDir = outputDir,
        LearningRate = 1e-2,
        PerDeviceTrainBatchSize = 8,
        PerDeviceEvalBatchSize = 16,
        MaxSteps = 12,
        WarmupSteps = 2,
        LoggingSteps = 1,
        SaveSteps = 4,
        WeightDecay = 0.01,
        DisableTqdm = true,
    };

    private static Sharpformers.Training.Trainer MakeTrainer(TrainingArguments args, ToyClassifier model, Dataset? eval = null, IEnumerable<TrainerCallback>? callbacks = null, TextWriter? log = null) =>
        new(model, args, ToyClassifier.MakeData(64, Vocab, seed: 1), eval, new DataCollatorWithPadding(0), ClassificationMetrics.AccuracyAndF1(),
            callbacks: [.. callbacks ?? [], new PrinterCallback(log ?? TextWriter.Null)]);

    [Fact]
    public void ToyModelGradientsMatchFiniteDifferences()
    {
        var model = new ToyClassifier(Vocab, 6, 3, seed: 4, dropout: 0f);
        var data = ToyClassifier.MakeData(5, Vocab, seed: 9).Map(row => new Dictionary<string, object?> { ["label"] = row.Index % 3 });
        var batch = new DataCollatorWithPadding(0).Collate(data, [0, 1, 2, 3, 4]);
        model.Forward(batch, training: true, new SeededRandom(1));
        model.Backward(1f);
        foreach (var parameter in model.Parameters)
        {
            for (int i = 0; i < parameter.Value.Length; i += Math.Max(1, parameter.Value.Length / 7))
            {
                float original = parameter.Value[i];
                parameter.Value[i] = original + 1e-2f;
                double plus = model.Forward(batch, false, null).Loss!.Value;
                parameter.Value[i] = original - 1e-2f;
                double minus = model.Forward(batch, false, null).Loss!.Value;
                parameter.Value[i] = original;
                double numeric = (plus - minus) / 2e-2;
                Assert.True(Math.Abs(numeric - parameter.Gradient[i]) < 2e-3 + 2e-2 * Math.Abs(numeric), $"{parameter.Name}[{i}]: analytic {parameter.Gradient[i]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void TrainingLogsHuggingFaceKeysAndLearns()
    {
        using var dir = new TempDirectory();
        var model = new ToyClassifier(Vocab, 8, 2, seed: 2);
        var eval = ToyClassifier.MakeData(40, Vocab, seed: 5);
        var args = Args(dir.Combine("out")) with { MaxSteps = 40, SaveSteps = 500 };
        var trainer = MakeTrainer(args, model, eval);
        var before = trainer.Evaluate();
        var result = trainer.Train();
        var after = trainer.Evaluate();
        Assert.Equal(40, result.GlobalStep);
        Assert.True(after["eval_loss"] < before["eval_loss"] - 0.1, $"eval loss {before["eval_loss"]} → {after["eval_loss"]}");
        Assert.True(after["eval_accuracy"] >= 0.8, $"accuracy {after["eval_accuracy"]}");
        Assert.Equal(["eval_loss", "eval_accuracy", "eval_f1", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"], after.Keys);

        var history = trainer.State.LogHistory;
        var first = history.First(e => e.ContainsKey("loss"));
        Assert.Equal(["loss", "grad_norm", "learning_rate", "epoch", "step"], first.Keys);
        Assert.Equal(1, first["step"]);
        // Logged after the scheduler stepped: linear warmup of 2 steps gives lr·1/2 after step 1.
        Assert.Equal(5e-3, (double)first["learning_rate"]);
        Assert.Equal(0.12, (double)first["epoch"]);
        Assert.Equal(40, trainer.State.History("loss").Count());
        var last = history.Single(e => e.ContainsKey("train_loss"));
        Assert.Equal(["train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss", "epoch", "step"], last.Keys);
        Assert.Equal(result.TrainingLoss, (double)last["train_loss"]);
        Assert.Equal(trainer.State.History("loss").Average(h => h.Value), result.TrainingLoss, 3);
    }

    [Fact]
    public void RunsAreDeterministicAndResumeGivesTheSameLosses()
    {
        using var dir = new TempDirectory();
        List<(int, double)> Run(string output, int? stopAt, string? resume, out float[] weights)
        {
            var model = new ToyClassifier(Vocab, 8, 2, seed: 3);
            var callbacks = stopAt is int s ? new TrainerCallback[] { new StopAtStep(s) } : [];
            var trainer = MakeTrainer(Args(output), model, callbacks: callbacks);
            trainer.Train(resume);
            weights = model.Snapshot();
            return trainer.State.History("loss").ToList();
        }

        var full = Run(dir.Combine("a"), null, null, out var fullWeights);
        var again = Run(dir.Combine("b"), null, null, out var againWeights);
        Assert.Equal(full, again);
        Assert.Equal(fullWeights, againWeights);
        Assert.Equal(12, full.Count);

        var interrupted = Run(dir.Combine("c"), stopAt: 8, resume: null, out _);
        Assert.Equal(full.Take(8), interrupted);
        var resumed = Run(dir.Combine("c"), null, resume: dir.Combine("c", "checkpoint-8"), out var resumedWeights);
        // The resumed state carries the first 8 logs; the new ones continue bit-for-bit.
        Assert.Equal(full, resumed);
        Assert.Equal(fullWeights, resumedWeights);
    }

    [Fact]
    public void ResumeWithDifferentBatchingIsRefused()
    {
        using var dir = new TempDirectory();
        var trainer = MakeTrainer(Args(dir.Path) with { MaxSteps = 4 }, new ToyClassifier(Vocab, 8, 2, seed: 3));
        trainer.Train();
        var other = MakeTrainer(Args(dir.Path) with { PerDeviceTrainBatchSize = 4, MaxSteps = 20 }, new ToyClassifier(Vocab, 8, 2, seed: 3));
        var e = Assert.Throws<InvalidDataException>(() => other.Train("last"));
        Assert.Contains("resume with the batch size", e.Message);
    }

    [Fact]
    public void GradientAccumulationStepsEveryNMicroBatches()
    {
        using var dir = new TempDirectory();
        var model = new ToyClassifier(Vocab, 8, 2, seed: 3);
        var counter = new StepCounter();
        var trainer = MakeTrainer(Args(dir.Path) with { GradientAccumulationSteps = 2, MaxSteps = 6, SaveStrategy = IntervalStrategy.No }, model, callbacks: [counter]);
        trainer.Train();
        Assert.Equal(6, trainer.State.GlobalStep);
        Assert.Equal(12, model.TrainingCalls);
        Assert.Equal(6, counter.SubstepEnds);
        Assert.Equal(6, counter.StepEnds);
        Assert.Equal(6, counter.StepBegins);
    }

    [Fact]
    public void EpochStrategiesKeepTheBestCheckpointAndLoadItAtTheEnd()
    {
        using var dir = new TempDirectory();
        var eval = ToyClassifier.MakeData(32, Vocab, seed: 6);
        var args = Args(dir.Path) with
        {
            MaxSteps = -1,
            NumTrainEpochs = 3,
            EvalStrategy = IntervalStrategy.Epoch,
            SaveStrategy = IntervalStrategy.Epoch,
            LoadBestModelAtEnd = true,
            MetricForBestModel = "accuracy",
            SaveTotalLimit = 1,
        };
        var model = new ToyClassifier(Vocab, 8, 2, seed: 8);
        var trainer = MakeTrainer(args, model, eval);
        trainer.Train();
        Assert.Equal(24, trainer.State.GlobalStep);
        var evals = trainer.State.History("eval_accuracy").ToList();
        Assert.Equal([8, 16, 24], evals.Select(e => e.Step));
        int bestStep = evals.OrderByDescending(e => e.Value).First().Step;
        Assert.Equal(Path.Combine(dir.Path, $"checkpoint-{bestStep}"), trainer.State.BestModelCheckpoint);
        Assert.Equal(evals.Max(e => e.Value), trainer.State.BestMetric);
        Assert.Equal([$"checkpoint-{bestStep}"], Checkpoints.SortedCheckpoints(dir.Path, null).Select(Path.GetFileName));
        // The weights now are the best checkpoint's.
        var best = new ToyClassifier(Vocab, 8, 2, seed: 99);
        best.LoadWeights(trainer.State.BestModelCheckpoint!);
        Assert.Equal(best.Snapshot(), model.Snapshot());
        Assert.Equal(evals.Max(e => e.Value), trainer.Evaluate()["eval_accuracy"]);

        trainer.SaveModel();
        trainer.SaveState();
        trainer.SaveMetrics("train", new Dictionary<string, double> { ["train_loss"] = 0.5 });
        trainer.SaveMetrics("eval", new Dictionary<string, double> { ["eval_accuracy"] = 0.75 });
        Assert.Equal("{\n    \"eval_accuracy\": 0.75,\n    \"train_loss\": 0.5\n}", File.ReadAllText(Path.Combine(dir.Path, "all_results.json")));
        Assert.True(File.Exists(Path.Combine(dir.Path, TrainerState.FileName)));
        Assert.True(File.Exists(Path.Combine(dir.Path, "toy_model.bin")));
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement()
    {
        using var dir = new TempDirectory();
        var eval = ToyClassifier.MakeData(16, Vocab, seed: 6);
        var args = Args(dir.Path) with
        {
            LearningRate = 0,
            MaxSteps = 40,
            EvalStrategy = IntervalStrategy.Steps,
            EvalSteps = 2,
            SaveSteps = 2,
            LoadBestModelAtEnd = true,
        };
        var stopper = new EarlyStoppingCallback(earlyStoppingPatience: 2);
        var trainer = MakeTrainer(args, new ToyClassifier(Vocab, 8, 2, seed: 8), eval, callbacks: [stopper]);
        trainer.Train();
        // lr 0: eval_loss never improves after the first evaluation (step 2), so training stops at the third (step 6).
        Assert.Equal(6, trainer.State.GlobalStep);
        Assert.Equal(2, stopper.EarlyStoppingPatienceCounter);

        var noBest = MakeTrainer(args with { LoadBestModelAtEnd = false }, new ToyClassifier(Vocab, 8, 2, seed: 8), eval, callbacks: [new EarlyStoppingCallback()]);
        Assert.Equal("EarlyStoppingCallback requires load_best_model_at_end = True", Assert.Throws<InvalidOperationException>(() => noBest.Train()).Message);
    }

    [Fact]
    public void NaNLossStopsWithAClearMessage()
    {
        using var dir = new TempDirectory();
        var model = new ToyClassifier(Vocab, 8, 2, seed: 3) { NaNAtTrainingCall = 6 };
        var trainer = MakeTrainer(Args(dir.Path), model);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Equal(5, e.GlobalStep);
        Assert.True(e.Message.StartsWith("The training loss became NaN at step 6 (epoch 0.62) with learning rate 0.007; training stopped.", StringComparison.Ordinal), e.Message);
        Assert.Contains("checkpoint-4", e.Message);
    }

    [Fact]
    public void PrinterAndProgressShowLogsAsPythonDicts()
    {
        using var dir = new TempDirectory();
        var log = new StringWriter();
        var trainer = MakeTrainer(Args(dir.Path) with { MaxSteps = 2, SaveStrategy = IntervalStrategy.No }, new ToyClassifier(Vocab, 8, 2, seed: 3), log: log);
        trainer.Train();
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\{'loss': [0-9.]+, 'grad_norm': [0-9.e-]+, 'learning_rate': 0\.005, 'epoch': 0\.12\}$", lines[0]);
        Assert.StartsWith("{'train_runtime': ", lines[2]);
        Assert.DoesNotContain("total_flos", lines[2]);

        var progressOut = new StringWriter();
        var progress = new ProgressCallback(progressOut, interactive: false);
        var args = Args(dir.Path) with { MaxSteps = 2 };
        var state = new TrainerState { MaxSteps = 2 };
        var control = new TrainerControl();
        var handler = new CallbackHandler([progress]);
        handler.OnTrainBegin(args with { DisableTqdm = false }, state, control);
        state.GlobalStep = 1;
        state.Epoch = 0.5;
        handler.Log(args with { DisableTqdm = false }, state, control, new Dictionary<string, object> { ["loss"] = 0.6931, ["learning_rate"] = 5e-05, ["total_flos"] = 1.0 });
        handler.OnTrainEnd(args with { DisableTqdm = false }, state, control);
        string text = progressOut.ToString();
        Assert.Contains("{'loss': 0.6931, 'learning_rate': 5e-05, 'epoch': 0.5}\n", text);
        Assert.Contains("Training:", text);
        Assert.Contains("loss=0.6931", text);
    }

    [Fact]
    public void ConfigurationErrorsAreReportedBeforeTraining()
    {
        var model = new ToyClassifier(Vocab, 8, 2, seed: 3);
        var e = Assert.Throws<ArgumentException>(() => new Sharpformers.Training.Trainer(model, new TrainingArguments { OutputDir = "o", EvalStrategy = IntervalStrategy.Epoch },
            ToyClassifier.MakeData(8, Vocab, 1), null, new DataCollatorWithPadding(0)));
        Assert.Contains("didn't pass an eval dataset", e.Message);
        Assert.Throws<ArgumentException>(() => new Sharpformers.Training.Trainer(model, new TrainingArguments { OutputDir = "o" }, ToyClassifier.MakeData(8, Vocab, 1)));
        var unlabelled = ToyClassifier.MakeData(8, Vocab, 1).RemoveColumns("label");
        var trainer = new Sharpformers.Training.Trainer(model, new TrainingArguments { OutputDir = "o", DisableTqdm = true, SaveStrategy = IntervalStrategy.No }, unlabelled, null, new DataCollatorWithPadding(0));
        Assert.Contains("needs a label column", Assert.Throws<InvalidOperationException>(() => trainer.Train()).Message);
    }

    private sealed class StepCounter : TrainerCallback
    {
        public int StepBegins { get; private set; }

        public int StepEnds { get; private set; }

        public int SubstepEnds { get; private set; }

        public override void OnStepBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) => StepBegins++;

        public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) => StepEnds++;

        public override void OnSubstepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) => SubstepEnds++;
    }
}
