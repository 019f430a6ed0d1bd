using Sharpformers.Nn.Optim;
using Sharpformers.Training.Optimization;

namespace Sharpformers.Training.Tests.Trainer;

public sealed class TrainingArgumentsTests
{
    [Fact]
    public void DefaultsAreHuggingFaces()
    {
        var args = new TrainingArguments { OutputDir = "out" }.Validate();
        Assert.Equal(5e-5, args.LearningRate);
        Assert.Equal(8, args.PerDeviceTrainBatchSize);
        Assert.Equal(8, args.PerDeviceEvalBatchSize);
        Assert.Equal(3.0, args.NumTrainEpochs);
        Assert.Equal(-1, args.MaxSteps);
        Assert.Equal(0.0, args.WeightDecay);
        Assert.Equal((0.9, 0.999, 1e-8), (args.AdamBeta1, args.AdamBeta2, args.AdamEpsilon));
        Assert.Equal(1.0, args.MaxGradNorm);
        Assert.Equal(SchedulerType.Linear, args.LrSchedulerType);
        Assert.Equal((IntervalStrategy.No, IntervalStrategy.Steps, IntervalStrategy.Steps), (args.EvalStrategy, args.SaveStrategy, args.LoggingStrategy));
        Assert.Equal((500.0, 500.0), (args.LoggingSteps, args.SaveSteps));
        Assert.Null(args.EvalSteps);
        Assert.Equal(42, args.Seed);
        Assert.Null(args.MetricForBestModel);
        Assert.Null(args.GreaterIsBetter);
        Assert.False(args.DoEval);
        Assert.Equal("out", args.RunName);
        Assert.Equal("adamw_torch", args.Optim);
    }

    [Fact]
    public void PostInitDerivationsFollowHuggingFace()
    {
        var course = new TrainingArguments
        {
            OutputDir = "out",
            LearningRate = 2e-5,
            PerDeviceTrainBatchSize = 16,
            PerDeviceEvalBatchSize = 16,
            NumTrainEpochs = 2,
            WeightDecay = 0.01,
            EvalStrategy = IntervalStrategy.Epoch,
            SaveStrategy = IntervalStrategy.Epoch,
            LoadBestModelAtEnd = true,
        }.Validate();
        Assert.Equal("loss", course.MetricForBestModel);
        Assert.False(course.GreaterIsBetter);
        Assert.True(course.DoEval);

        var accuracy = course with { MetricForBestModel = "accuracy" };
        Assert.True(accuracy.GreaterIsBetter);
        Assert.False((course with { MetricForBestModel = "eval_loss" }).GreaterIsBetter);
        Assert.False((accuracy with { GreaterIsBetter = false }).GreaterIsBetter);

        var steps = new TrainingArguments { OutputDir = "out", EvalStrategy = IntervalStrategy.Steps, LoggingSteps = 50 };
        Assert.Equal(50, steps.EvalSteps);
        Assert.Equal(20, (steps with { EvalSteps = 20 }).EvalSteps);
        Assert.Equal(7, new TrainingArguments { OutputDir = "o", WarmupRatio = 0.1 }.GetWarmupSteps(64));
        Assert.Equal(3, new TrainingArguments { OutputDir = "o", WarmupRatio = 0.1, WarmupSteps = 3 }.GetWarmupSteps(64));
    }

    [Theory]
    [InlineData("load_best_mismatch", "--load_best_model_at_end requires the save and eval strategy to match, but found\n- Evaluation strategy: epoch\n- Save strategy: steps")]
    [InlineData("load_best_multiple", "--load_best_model_at_end requires the saving steps to be a round multiple of the evaluation steps, but found 500, which is not a round multiple of 30.")]
    [InlineData("logging_zero", "logging strategy steps requires non-zero --logging_steps")]
    [InlineData("eval_no_steps", "evaluation strategy steps requires either non-zero --eval_steps or --logging_steps")]
    [InlineData("warmup_ratio", "warmup_ratio must lie in the range [0,1].")]
    [InlineData("fraction_steps", "--save_steps must be an integer if bigger than 1: 2.5")]
    [InlineData("batch", "per_device_train_batch_size must be at least 1, got 0.")]
    public void InvalidCombinationsAreRejected(string which, string message)
    {
        var baseArgs = new TrainingArguments { OutputDir = "out" };
        var args = which switch
        {
            "load_best_mismatch" => baseArgs with { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Epoch },
            "load_best_multiple" => baseArgs with { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Steps, EvalSteps = 30 },
            "logging_zero" => baseArgs with { LoggingSteps = 0 },
            "eval_no_steps" => baseArgs with { EvalStrategy = IntervalStrategy.Steps, LoggingSteps = 0, LoggingStrategy = IntervalStrategy.No },
            "warmup_ratio" => baseArgs with { WarmupRatio = 1.5 },
            "fraction_steps" => baseArgs with { SaveSteps = 2.5 },
            "batch" => baseArgs with { PerDeviceTrainBatchSize = 0 },
            _ => throw new ArgumentException(which),
        };
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => args.Validate()).Message);
    }

    [Fact]
    public void UnsupportedOptimizerIsNamed()
    {
        var e = Assert.Throws<NotSupportedException>(() => new TrainingArguments { OutputDir = "o", Optim = "adafactor" }.Validate());
        Assert.Contains("'adafactor'", e.Message);
    }

    [Fact]
    public void JsonRoundTripsAndUsesHuggingFaceSpelling()
    {
        var args = new TrainingArguments
        {
            OutputDir = "out",
            LearningRate = 1e-3,
            EvalStrategy = IntervalStrategy.Steps,
            LoggingSteps = 1,
            LrSchedulerType = SchedulerType.CosineWithRestarts,
            LrSchedulerKwargs = new Dictionary<string, double> { ["num_cycles"] = 2 },
            SaveTotalLimit = 2,
            LoadBestModelAtEnd = true,
            SaveStrategy = IntervalStrategy.Steps,
            SaveSteps = 4,
        };
        string json = args.ToJson();
        Assert.StartsWith("{\n  \"output_dir\": \"out\",\n  \"overwrite_output_dir\": false,", json);
        Assert.Contains("\n  \"learning_rate\": 0.001,\n", json);
        Assert.Contains("\n  \"eval_strategy\": \"steps\",\n", json);
        Assert.Contains("\n  \"lr_scheduler_type\": \"cosine_with_restarts\",\n", json);
        Assert.Contains("\n  \"lr_scheduler_kwargs\": {\n    \"num_cycles\": 2.0\n  },\n", json);
        Assert.Contains("\n  \"logging_steps\": 1,\n", json);
        Assert.Contains("\n  \"eval_steps\": 1,\n", json);
        Assert.Contains("\n  \"metric_for_best_model\": \"loss\",\n", json);
        Assert.Contains("\n  \"greater_is_better\": false,\n", json);
        Assert.Contains("\n  \"resume_from_checkpoint\": null,\n", json);
        var back = TrainingArguments.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(2.0, back.LrSchedulerKwargs["num_cycles"]);

        var e = Assert.Throws<InvalidDataException>(() => TrainingArguments.FromJson("{\"output_dir\": \"o\", \"fp16\": true}"));
        Assert.Contains("unknown training arguments [fp16]", e.Message);
        Assert.Equal("o", TrainingArguments.FromJson("{\"output_dir\": \"o\", \"fp16\": true}", ignoreUnknownKeys: true).OutputDir);
        var bad = Assert.Throws<InvalidDataException>(() => TrainingArguments.FromJson("{\"output_dir\": \"o\", \"learning_rate\": \"fast\"}"));
        Assert.Contains("learning_rate: 'fast' is not a number", bad.Message);
    }

    [Fact]
    public void CliStyleSettersTakeKebabOrSnakeNames()
    {
        var args = new TrainingArguments { OutputDir = "out" }
            .With("--learning-rate", "1e-3")
            .With("per_device_train_batch_size", "16")
            .With("max-steps", "64")
            .With("warmup-steps", "10")
            .With("lr-scheduler-type", "linear")
            .With("logging-steps", "1")
            .With("load-best-model-at-end", "true")
            .With("eval-strategy", "epoch")
            .With("save-strategy", "epoch")
            .With("lr-scheduler-kwargs", "num_cycles=3")
            .With("save-total-limit", "none");
        Assert.Equal((1e-3, 16, 64, 10, 1.0), (args.LearningRate, args.PerDeviceTrainBatchSize, args.MaxSteps, args.WarmupSteps, args.LoggingSteps));
        Assert.True(args.LoadBestModelAtEnd);
        Assert.Null(args.SaveTotalLimit);
        Assert.Equal(3.0, args.LrSchedulerKwargs["num_cycles"]);
        Assert.Equal(5e-5, args.With("learning_rate", "5e-5").Get("learning-rate"));
        Assert.Contains("known: output_dir", Assert.Throws<ArgumentException>(() => args.With("--learnig-rate", "1")).Message);
        Assert.Contains("is not one of no, steps, epoch", Assert.Throws<ArgumentException>(() => args.With("eval-strategy", "sometimes")).Message);
        Assert.Contains("is not a whole number", Assert.Throws<ArgumentException>(() => args.With("seed", "4.5")).Message);
    }

    [Fact]
    public void DecayExclusionsFollowHuggingFaceForBertAndDistilBert()
    {
        string[] names =
        [
            "bert.embeddings.word_embeddings.weight",
            "bert.embeddings.LayerNorm.weight",
            "bert.embeddings.LayerNorm.bias",
            "bert.encoder.layer.0.attention.self.query.weight",
            "bert.encoder.layer.0.attention.self.query.bias",
            "bert.encoder.layer.0.output.LayerNorm.weight",
            "distilbert.transformer.layer.0.sa_layer_norm.weight",
            "distilbert.transformer.layer.0.output_layer_norm.weight",
            "distilbert.transformer.layer.0.ffn.lin1.weight",
            "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight",
            "pre_classifier.weight",
            "classifier.bias",
        ];
        var decay = TrainerOptimization.GetDecayParameterNames(names);
        Assert.Equal(
            ["bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight", "distilbert.transformer.layer.0.ffn.lin1.weight", "pre_classifier.weight"],
            names.Where(decay.Contains));

        var parameters = names.Select(n => new TrainableParameter(n, new float[2])).ToList();
        var optimizer = TrainerOptimization.CreateOptimizer(parameters, new TrainingArguments { OutputDir = "o", WeightDecay = 0.01, LearningRate = 2e-5 });
        Assert.Equal(2, optimizer.ParamGroups.Count);
        Assert.Equal((0.01, 4), (optimizer.ParamGroups[0].WeightDecay, optimizer.ParamGroups[0].Parameters.Count));
        Assert.Equal((0.0, 8), (optimizer.ParamGroups[1].WeightDecay, optimizer.ParamGroups[1].Parameters.Count));
        Assert.Equal(2e-5, optimizer.ParamGroups[1].LearningRate);
        var scheduler = TrainerOptimization.CreateScheduler(optimizer, new TrainingArguments { OutputDir = "o", WarmupRatio = 0.5, LearningRate = 2e-5 }, 10);
        Assert.Equal(5, (int)scheduler.Parameters["num_warmup_steps"]);
    }
}
