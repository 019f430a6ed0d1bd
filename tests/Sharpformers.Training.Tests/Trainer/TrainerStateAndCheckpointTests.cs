using Sharpformers.Nn.Optim;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Trainer;

public sealed class TrainerStateAndCheckpointTests
{
    private static TrainerState SampleState() => new()
    {
        Epoch = 2.0,
        GlobalStep = 64,
        MaxSteps = 64,
        LoggingSteps = 1,
        EvalSteps = 500,
        SaveSteps = 32,
        TrainBatchSize = 16,
        NumTrainEpochs = 2,
        TotalFlos = 12345.0,
        LogHistory =
        [
            new() { ["loss"] = 0.6931, ["grad_norm"] = (double)3.0961609f, ["learning_rate"] = 0.0001, ["epoch"] = 0.03, ["step"] = 1 },
            new() { ["eval_loss"] = 0.5123, ["eval_accuracy"] = 0.875, ["eval_runtime"] = 1.2345, ["eval_samples_per_second"] = 706.36, ["eval_steps_per_second"] = 44.552, ["epoch"] = 1.0, ["step"] = 32 },
            new() { ["train_runtime"] = 10.5, ["train_samples_per_second"] = 97.524, ["train_steps_per_second"] = 6.095, ["total_flos"] = 12345.0, ["train_loss"] = 0.4567, ["epoch"] = 2.0, ["step"] = 64 },
        ],
        BestMetric = 0.5123,
        BestModelCheckpoint = "out/checkpoint-32",
    };

    [Fact]
    public void TrainerStateJsonIsByteForByteWhatPythonWrites()
    {
        // json.dumps(dataclasses.asdict(state), indent=2, sort_keys=True) + "\n" from CPython for the same values.
        const string python = "{\n  \"best_metric\": 0.5123,\n  \"best_model_checkpoint\": \"out/checkpoint-32\",\n  \"epoch\": 2.0,\n  \"eval_steps\": 500,\n  \"global_step\": 64,\n  \"is_hyper_param_search\": false,\n  \"is_local_process_zero\": true,\n  \"is_world_process_zero\": true,\n  \"log_history\": [\n    {\n      \"epoch\": 0.03,\n      \"grad_norm\": 3.096160888671875,\n      \"learning_rate\": 0.0001,\n      \"loss\": 0.6931,\n      \"step\": 1\n    },\n    {\n      \"epoch\": 1.0,\n      \"eval_accuracy\": 0.875,\n      \"eval_loss\": 0.5123,\n      \"eval_runtime\": 1.2345,\n      \"eval_samples_per_second\": 706.36,\n      \"eval_steps_per_second\": 44.552,\n      \"step\": 32\n    },\n    {\n      \"epoch\": 2.0,\n      \"step\": 64,\n      \"total_flos\": 12345.0,\n      \"train_loss\": 0.4567,\n      \"train_runtime\": 10.5,\n      \"train_samples_per_second\": 97.524,\n      \"train_steps_per_second\": 6.095\n    }\n  ],\n  \"logging_steps\": 1,\n  \"max_steps\": 64,\n  \"num_input_tokens_seen\": 0,\n  \"num_train_epochs\": 2,\n  \"save_steps\": 32,\n  \"total_flos\": 12345.0,\n  \"train_batch_size\": 16,\n  \"trial_name\": null,\n  \"trial_params\": null\n}\n";
        Assert.Equal(python, SampleState().ToJson());
    }

    [Fact]
    public void TrainerStateRoundTripsThroughTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine(TrainerState.FileName);
        var state = SampleState();
        state.SaveToJson(path);
        var loaded = TrainerState.LoadFromJson(path);
        Assert.Equal(state.ToJson(), loaded.ToJson());
        Assert.Equal(1, loaded.LogHistory[0]["step"]);
        Assert.Equal([(1, 0.6931)], loaded.History("loss"));
        Assert.Equal([(32, 0.875)], loaded.History("eval_accuracy"));

        // A later transformers writes more fields (stateful_callbacks, best_global_step) and may log NaN.
        File.WriteAllText(path, "{\"global_step\": 3, \"stateful_callbacks\": {}, \"best_global_step\": null, \"log_history\": [{\"loss\": NaN, \"step\": 3}]}");
        var later = TrainerState.LoadFromJson(path);
        Assert.Equal(3, later.GlobalStep);
        Assert.True(double.IsNaN((double)later.LogHistory[0]["loss"]));
        File.WriteAllText(path, "{not json");
        Assert.Throws<InvalidDataException>(() => TrainerState.LoadFromJson(path));
    }

    private static void MakeCheckpoints(string outputDir, params int[] steps)
    {
        foreach (int step in steps) Directory.CreateDirectory(Path.Combine(outputDir, $"checkpoint-{step}"));
    }

    [Fact]
    public void LastCheckpointAndSortingFollowHuggingFace()
    {
        using var dir = new TempDirectory();
        MakeCheckpoints(dir.Path, 5, 40, 100, 8);
        Directory.CreateDirectory(dir.Combine("checkpoint-x"));
        Directory.CreateDirectory(dir.Combine("checkpoint-200-old"));
        File.WriteAllText(dir.Combine("checkpoint-300"), "a file, not a folder");
        Assert.Equal(dir.Combine("checkpoint-100"), Checkpoints.GetLastCheckpoint(dir.Path));
        Assert.Null(Checkpoints.GetLastCheckpoint(dir.Combine("missing")));
        Assert.Equal(["checkpoint-5", "checkpoint-8", "checkpoint-40", "checkpoint-100"], Checkpoints.SortedCheckpoints(dir.Path, null).Select(Path.GetFileName));
        // The best moves to second-to-last so that rotation keeps it and the latest.
        Assert.Equal(["checkpoint-8", "checkpoint-40", "checkpoint-5", "checkpoint-100"], Checkpoints.SortedCheckpoints(dir.Path, dir.Combine("checkpoint-5")).Select(Path.GetFileName));
    }

    [Fact]
    public void RotationNeverDeletesTheBest()
    {
        using var dir = new TempDirectory();
        MakeCheckpoints(dir.Path, 10, 20, 30, 40);
        var deleted = Checkpoints.RotateCheckpoints(dir.Path, 2, dir.Combine("checkpoint-10"));
        Assert.Equal(["checkpoint-20", "checkpoint-30"], deleted.Select(Path.GetFileName));
        Assert.Equal(["checkpoint-10", "checkpoint-40"], Checkpoints.SortedCheckpoints(dir.Path, null).Select(Path.GetFileName));

        // save_total_limit=1 with an older best keeps two, so the run stays resumable.
        MakeCheckpoints(dir.Path, 50);
        Checkpoints.RotateCheckpoints(dir.Path, 1, dir.Combine("checkpoint-10"));
        Assert.Equal(["checkpoint-10", "checkpoint-50"], Checkpoints.SortedCheckpoints(dir.Path, null).Select(Path.GetFileName));
        Assert.Empty(Checkpoints.RotateCheckpoints(dir.Path, null, null));
        Checkpoints.DeleteAllButBest(dir.Path, dir.Combine("checkpoint-10"));
        Assert.Equal(["checkpoint-10"], Checkpoints.SortedCheckpoints(dir.Path, null).Select(Path.GetFileName));
    }

    [Fact]
    public void BestMetricBookkeeping()
    {
        var args = new TrainingArguments { OutputDir = "out", LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch, MetricForBestModel = "accuracy" };
        var state = new TrainerState();
        Assert.True(Checkpoints.UpdateBestMetric(state, args, new Dictionary<string, double> { ["eval_accuracy"] = 0.8 }, "out/checkpoint-1"));
        Assert.False(Checkpoints.UpdateBestMetric(state, args, new Dictionary<string, double> { ["eval_accuracy"] = 0.8 }, "out/checkpoint-2"));
        Assert.True(Checkpoints.UpdateBestMetric(state, args, new Dictionary<string, double> { ["eval_accuracy"] = 0.9 }, "out/checkpoint-3"));
        Assert.Equal((0.9, "out/checkpoint-3"), (state.BestMetric!.Value, state.BestModelCheckpoint));
        var e = Assert.Throws<KeyNotFoundException>(() => Checkpoints.UpdateBestMetric(state, args, new Dictionary<string, double> { ["eval_loss"] = 1 }, "x"));
        Assert.Contains("[eval_loss]", e.Message);
        var lossArgs = args with { MetricForBestModel = null };
        var lossState = new TrainerState();
        Checkpoints.UpdateBestMetric(lossState, lossArgs, new Dictionary<string, double> { ["eval_loss"] = 0.5 }, "a");
        Checkpoints.UpdateBestMetric(lossState, lossArgs, new Dictionary<string, double> { ["eval_loss"] = 0.4 }, "b");
        Assert.Equal("b", lossState.BestModelCheckpoint);
    }

    [Fact]
    public void CheckpointsAreCompleteAtomicAndResumable()
    {
        using var dir = new TempDirectory();
        var args = new TrainingArguments { OutputDir = dir.Combine("out"), SaveTotalLimit = 2 };
        var parameter = new TrainableParameter("classifier.weight", [1f, 2f], [0.1f, -0.2f]);
        var optimizer = new AdamW([parameter]);
        var scheduler = Schedules.GetScheduler(SchedulerType.Linear, optimizer, 0, 10);
        var random = new SeededRandom(3);
        random.NextDouble();
        var state = new TrainerState { MaxSteps = 10 };
        string? last = null;
        for (int step = 1; step <= 3; step++)
        {
            optimizer.Step();
            scheduler.Step();
            state.GlobalStep = step;
            var rng = new TrainerRngState(new Dictionary<string, SeededRandomState> { ["dropout"] = random.SaveState() }, new DataPosition(0, step, step, 10));
            last = Checkpoints.Save(args, state, folder => File.WriteAllText(Path.Combine(folder, "config.json"), "{}"), optimizer, scheduler, rng);
        }
        Assert.Equal(Path.Combine(args.OutputDir, "checkpoint-3"), last);
        Assert.Equal(["checkpoint-2", "checkpoint-3"], Checkpoints.SortedCheckpoints(args.OutputDir, null).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(args.OutputDir, ".*"));
        Checkpoints.EnsureResumable(last!);
        Assert.Equal(
            ["config.json", "optimizer.json", "optimizer.safetensors", "rng_state.json", "scheduler.json", "trainer_state.json", "training_args.json"],
            Directory.EnumerateFiles(last!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var rngBack = TrainerRngState.Load(last!);
        Assert.Equal(new DataPosition(0, 3, 3, 10), rngBack.Position);
        var resumedRandom = SeededRandom.FromState(rngBack.Generators["dropout"]);
        Assert.Equal(random.NextUInt64(), resumedRandom.NextUInt64());
        Assert.Equal(3, TrainerState.LoadFromJson(Path.Combine(last!, TrainerState.FileName)).GlobalStep);
        Assert.Equal(args.ToJson(), TrainingArguments.FromJson(File.ReadAllText(Path.Combine(last!, Checkpoints.TrainingArgumentsFileName))).ToJson());
        Assert.Equal(last, Checkpoints.ResolveResumePath("last", args.OutputDir));

        // A model-only checkpoint is refused for resume, and says why.
        var modelOnly = args with { SaveOnlyModel = true };
        state.GlobalStep = 4;
        string path = Checkpoints.Save(modelOnly, state, folder => File.WriteAllText(Path.Combine(folder, "config.json"), "{}"), null, null, null);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoints.EnsureResumable(path));
        Assert.Contains("save_only_model", e.Message);

        // A failing model writer leaves no checkpoint folder behind.
        state.GlobalStep = 5;
        Assert.Throws<IOException>(() => Checkpoints.Save(args, state, _ => throw new IOException("disk full"), optimizer, scheduler,
            new TrainerRngState(new Dictionary<string, SeededRandomState>(), new DataPosition(0, 5, 5, 10))));
        Assert.False(Directory.Exists(Path.Combine(args.OutputDir, "checkpoint-5")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(args.OutputDir, ".*"));
    }
}
