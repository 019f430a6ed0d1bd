using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;

namespace Sharpformers.Training.Tests.Trainer;

public sealed class TrainerPiecesTests
{
    [Fact]
    public void PlanFollowsHuggingFaceStepArithmetic()
    {
        // Acceptance 2's run: 512 sentences, batch 16, max_steps 64 → 32 batches per epoch, 2 epochs.
        var args = new TrainingArguments { OutputDir = "o", PerDeviceTrainBatchSize = 16, MaxSteps = 64, WarmupSteps = 10, LoggingSteps = 1, SaveSteps = 32 };
        var plan = TrainingPlan.Create(args, 512);
        Assert.Equal((32, 32, 64, 2), (plan.BatchesPerEpoch, plan.NumUpdateStepsPerEpoch, plan.MaxSteps, plan.NumTrainEpochs));
        Assert.Equal((1, 32, 10), (plan.LoggingSteps, plan.SaveSteps, plan.WarmupSteps));
        Assert.Equal(1024, plan.NumTrainSamples);
        Assert.Equal((1, 0), plan.ResumePosition(32));
        Assert.Equal((0, 20), plan.ResumePosition(20));
        Assert.Equal((0, 0), plan.ResumePosition(20, ignoreDataSkip: true));
        Assert.Equal(0.03125, plan.EpochAt(0, 0, 0));
        Assert.Equal(1.5, plan.EpochAt(1, 5, 10));

        // The course: 2 epochs of 3,668 MRPC pairs at batch 8 → 459 batches, 918 steps.
        var course = TrainingPlan.Create(new TrainingArguments { OutputDir = "o", NumTrainEpochs = 2, LoggingSteps = 0.1, SaveSteps = 0.5 }, 3668);
        Assert.Equal((459, 918, 2), (course.BatchesPerEpoch, course.MaxSteps, course.NumTrainEpochs));
        Assert.Equal((92, 459), (course.LoggingSteps, course.SaveSteps));
        Assert.Equal(7336, course.NumTrainSamples);

        // Accumulation: 10 rows, batch 4 → 3 batches, 1 update per epoch; drop_last → 2 batches.
        var accumulated = TrainingPlan.Create(new TrainingArguments { OutputDir = "o", PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 2, NumTrainEpochs = 3 }, 10);
        Assert.Equal((3, 1, 3), (accumulated.BatchesPerEpoch, accumulated.NumUpdateStepsPerEpoch, accumulated.MaxSteps));
        Assert.False(accumulated.IsOptimizerStep(1, 0, 3));
        Assert.True(accumulated.IsOptimizerStep(2, 1, 3));
        Assert.False(accumulated.IsOptimizerStep(3, 2, 3));
        var shortEpoch = TrainingPlan.Create(new TrainingArguments { OutputDir = "o", PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 4 }, 10);
        Assert.True(shortEpoch.IsOptimizerStep(3, 2, 3));
        Assert.Equal(2, TrainingPlan.Create(new TrainingArguments { OutputDir = "o", PerDeviceTrainBatchSize = 4, DataloaderDropLast = true }, 10).BatchesPerEpoch);
        Assert.Contains("fewer than one batch", Assert.Throws<ArgumentException>(() =>
            TrainingPlan.Create(new TrainingArguments { OutputDir = "o", PerDeviceTrainBatchSize = 16, DataloaderDropLast = true }, 10)).Message);
        Assert.Throws<ArgumentException>(() => TrainingPlan.Create(new TrainingArguments { OutputDir = "o", NumTrainEpochs = 0 }, 10));
    }

    [Fact]
    public void TrainSamplerChoice()
    {
        var ds = Dataset.FromDict(new Dictionary<string, System.Collections.IList> { ["input_ids"] = new[] { new[] { 1 }, new[] { 1, 2 } } });
        var args = new TrainingArguments { OutputDir = "o" };
        Assert.IsType<RandomSampler>(TrainingPlan.TrainSampler(args, ds));
        Assert.IsType<SequentialSampler>(TrainingPlan.TrainSampler(args, ds, shuffle: false));
        var grouped = Assert.IsType<LengthGroupedSampler>(TrainingPlan.TrainSampler(args with { GroupByLength = true, GradientAccumulationSteps = 2 }, ds));
        Assert.Equal(16, grouped.BatchSize);
        Assert.Equal(7, Assert.IsType<RandomSampler>(TrainingPlan.TrainSampler(args with { DataSeed = 7 }, ds)).Seed);
    }

    [Fact]
    public void LossTrackerAveragesPerStepInFloat32AndRounds()
    {
        var tracker = new TrainingLossTracker();
        tracker.AddMicroBatchLoss(0.7f, 2, 0, true);
        tracker.AddMicroBatchLoss(0.5f, 2, 0, true);
        Assert.Null(tracker.TakeLoggedLoss(0));
        // One optimizer step of two micro-batches: (0.35 + 0.25) as float32, over 1 step, rounded to 4 decimals.
        Assert.Equal(0.6, tracker.TakeLoggedLoss(1));
        tracker.AddMicroBatchLoss(0.123456f, 1, 1, true);
        tracker.AddMicroBatchLoss(0.2f, 1, 2, true);
        Assert.Equal(0.1617, tracker.TakeLoggedLoss(3));
        tracker.AddMicroBatchLoss(float.NaN, 1, 3, true);
        Assert.Equal(0.0, tracker.TakeLoggedLoss(4));
        Assert.Equal((double)(0.35f + 0.25f + (0.123456f + 0.2f)) / 4, tracker.TrainLoss(4), 12);
    }

    [Fact]
    public void DefaultFlowDecidesLoggingEvaluationAndSaving()
    {
        var flow = new DefaultFlowCallback();
        var context = new TrainerCallbackContext();
        var args = new TrainingArguments { OutputDir = "o", LoggingFirstStep = true, EvalStrategy = IntervalStrategy.Steps, EvalSteps = 4, EvalDelay = 5, SaveSteps = 6 };
        var state = new TrainerState { MaxSteps = 12, LoggingSteps = 3, EvalSteps = 4, SaveSteps = 6 };
        var decisions = new List<string>();
        for (int step = 1; step <= 12; step++)
        {
            var control = new TrainerControl();
            state.GlobalStep = step;
            flow.OnStepEnd(args, state, control, context);
            decisions.Add($"{(control.ShouldLog ? "L" : "")}{(control.ShouldEvaluate ? "E" : "")}{(control.ShouldSave ? "S" : "")}{(control.ShouldTrainingStop ? "X" : "")}");
        }
        // Log at 1 (first step) and every 3; evaluate every 4 from step 5 (eval_delay); save every 6; stop at 12.
        Assert.Equal(["L", "", "L", "", "", "LS", "", "E", "L", "", "", "LESX"], decisions);

        var epochArgs = new TrainingArguments { OutputDir = "o", LoggingStrategy = IntervalStrategy.Epoch, EvalStrategy = IntervalStrategy.Epoch, SaveStrategy = IntervalStrategy.Epoch, EvalDelay = 2 };
        var epochControl = new TrainerControl();
        flow.OnEpochEnd(epochArgs, new TrainerState { Epoch = 1 }, epochControl, context);
        Assert.Equal((true, false, true), (epochControl.ShouldLog, epochControl.ShouldEvaluate, epochControl.ShouldSave));
        flow.OnEpochEnd(epochArgs, new TrainerState { Epoch = 2 }, epochControl, context);
        Assert.True(epochControl.ShouldEvaluate);
    }

    [Fact]
    public void HandlerResetsSwitchesAndLogsLikeHuggingFace()
    {
        var handler = new CallbackHandler([new DefaultFlowCallback()]);
        var args = new TrainingArguments { OutputDir = "o", IncludeNumInputTokensSeen = true };
        var state = new TrainerState { GlobalStep = 7, Epoch = 0.4375, NumInputTokensSeen = 900 };
        var control = new TrainerControl { ShouldLog = true, ShouldSave = true, ShouldEvaluate = true, ShouldTrainingStop = true, ShouldEpochStop = true };
        handler.OnStepBegin(args, state, control);
        Assert.Equal((false, false, false), (control.ShouldLog, control.ShouldSave, control.ShouldEvaluate));
        handler.OnEpochBegin(args, state, control);
        Assert.False(control.ShouldEpochStop);
        handler.OnTrainBegin(args, state, control);
        Assert.False(control.ShouldTrainingStop);
        var entry = handler.Log(args, state, control, new Dictionary<string, object> { ["loss"] = 0.5 });
        Assert.Equal(["loss", "epoch", "num_input_tokens_seen", "step"], entry.Keys);
        Assert.Equal(0.44, entry["epoch"]);
        Assert.Equal(7, entry["step"]);
        Assert.Same(entry, state.LogHistory[^1]);
        Assert.False(handler.LacksDefaultFlow);
        Assert.NotNull(handler.PopCallback<DefaultFlowCallback>());
        Assert.True(handler.LacksDefaultFlow);
    }

    [Fact]
    public void EvaluationAccumulatorWeightsLossesAndOrdersKeysLikeHuggingFace()
    {
        var accumulator = new EvaluationAccumulator();
        var batch1 = new CollatedBatch { BatchSize = 2, SequenceLength = 1, InputIds = [1, 2], AttentionMask = [1, 1], Labels = [1, 0] };
        var batch2 = new CollatedBatch { BatchSize = 1, SequenceLength = 1, InputIds = [3], AttentionMask = [1], Labels = [1] };
        accumulator.Add(batch1, new ModelOutput(0.9f, [0f, 1f, 2f, 0f]));
        accumulator.Add(batch2, new ModelOutput(0.3f, [1f, 0f]));
        var metrics = accumulator.Metrics(ClassificationMetrics.AccuracyAndF1());
        Assert.Equal(["eval_loss", "eval_accuracy", "eval_f1"], metrics.Keys);
        Assert.Equal((double)(float)((0.9 * 2 + 0.3) / 3), metrics["eval_loss"]);
        Assert.Equal(2.0 / 3, metrics["eval_accuracy"], 12);
        Assert.Equal(["test_loss"], new EvaluationAccumulator().Metrics(null, "test").Keys.Concat(["test_loss"]).Distinct());
        Assert.Throws<ArgumentException>(() => accumulator.Add(batch2, new ModelOutput(null, [1f, 2f, 3f])));
    }

    [Fact]
    public void SpeedMetricsAndFlops()
    {
        var speed = TrainerMetrics.SpeedMetrics("eval", TimeSpan.FromSeconds(1.23456), numSamples: 872, numSteps: 109);
        Assert.Equal(["eval_runtime", "eval_samples_per_second", "eval_steps_per_second"], speed.Keys);
        Assert.Equal(1.2346, speed["eval_runtime"]);
        Assert.Equal(706.325, speed["eval_samples_per_second"]);
        Assert.Equal(88.291, speed["eval_steps_per_second"]);
        Assert.Equal(["train_runtime"], TrainerMetrics.SpeedMetrics("train", TimeSpan.Zero, 10).Keys);

        TrainableParameter P(string name, int n) => new(name, new float[n]);
        var parameters = new[]
        {
            P("bert.embeddings.word_embeddings.weight", 100), P("bert.embeddings.position_embeddings.weight", 20), P("bert.embeddings.token_type_embeddings.weight", 4),
            P("bert.embeddings.LayerNorm.weight", 2), P("bert.encoder.layer.0.attention.self.query.weight", 4), P("classifier.weight", 4),
        };
        Assert.Equal(10, TrainerMetrics.NonEmbeddingParameterCount(parameters));
        Assert.Equal(6.0 * 128 * 10, TrainerMetrics.FloatingPointOps(128, 10));
    }
}
