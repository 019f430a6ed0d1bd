using System.Diagnostics;
using Sharpformers.Models;
using Sharpformers.Nn.Optim;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>The result of <see cref="Trainer.Train"/> (HF's TrainOutput).</summary>
public sealed record TrainOutput(int GlobalStep, double TrainingLoss, IReadOnlyDictionary<string, double> Metrics);

/// <summary>The result of <see cref="Trainer.Predict"/> (HF's PredictionOutput): logits, references and metrics.</summary>
public sealed record PredictionOutput(EvalPrediction Predictions, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// HF's <c>Trainer</c> over an <see cref="ITrainableModel"/>: the training loop of transformers 4.38
/// step for step — gradient accumulation, clipping, AdamW with decay/no-decay groups, the LR
/// schedule, logging/evaluation/saving by strategy through <see cref="DefaultFlowCallback"/>,
/// checkpoints with optimizer, scheduler, RNG and data position, exact resume, best-model
/// tracking and loading at the end — plus a stop with a clear message when the loss turns NaN/inf.
/// </summary>
public sealed class Trainer
{
    private readonly ITrainableModel model;
    private readonly IDataCollator collator;
    private readonly TrainerControl control = new();
    private SeededRandom dropoutRandom;
    private SeededRandom collatorRandom;

    /// <param name="dataCollator">
    /// Pads batches (<see cref="DataCollatorWithPadding"/>), or pads and masks them
    /// (<see cref="DataCollatorForLanguageModeling"/>, drawing from a generator seeded by args.seed
    /// that checkpoints save); required when any dataset is given (the pad id comes from the tokenizer).
    /// </param>
    /// <param name="callbacks">Added after the default ones (DefaultFlowCallback, then ProgressCallback unless disable_tqdm, else PrinterCallback).</param>
    public Trainer(ITrainableModel model, TrainingArguments args, Dataset? trainDataset = null, Dataset? evalDataset = null,
        IDataCollator? dataCollator = null, ComputeMetrics? computeMetrics = null, IEnumerable<TrainerCallback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(args);
        this.model = model;
        Args = args.Validate();
        TrainDataset = trainDataset;
        EvalDataset = evalDataset;
        collator = dataCollator ?? new DataCollatorWithPadding(0);
        if (dataCollator is null && (trainDataset is not null || evalDataset is not null))
        {
            throw new ArgumentException("A data collator is needed to batch the datasets: pass new DataCollatorWithPadding(tokenizer's pad id).", nameof(dataCollator));
        }
        ComputeMetrics = computeMetrics;
        if (args.EvalStrategy != IntervalStrategy.No && evalDataset is null)
        {
            throw new ArgumentException(
                $"You have set eval_strategy to {args.EvalStrategy.ToHuggingFaceName()} but you didn't pass an eval dataset to the Trainer. Either set eval_strategy to no or pass an eval dataset.");
        }
        TrainerCallback[] defaults = args.DisableTqdm ? [new DefaultFlowCallback(), new PrinterCallback()] : [new DefaultFlowCallback(), new ProgressCallback()];
        CallbackHandler = new CallbackHandler(defaults.Concat(callbacks ?? [])) { Model = model };
        dropoutRandom = new SeededRandom(unchecked((ulong)args.Seed));
        collatorRandom = CollatorRandom(args.Seed);
        CallbackHandler.OnInitEnd(Args, State, control);
    }

    /// <summary>
    /// The course's <c>Trainer(model, args, train_dataset, eval_dataset, data_collator, compute_metrics, tokenizer=tokenizer)</c>
    /// for a BERT or DistilBERT classification model: with a tokenizer, the collator defaults to
    /// <c>DataCollatorWithPadding(tokenizer)</c> and the tokenizer files are saved beside every
    /// checkpoint and the final model, as HF does.
    /// </summary>
    public Trainer(SequenceClassificationModel model, TrainingArguments args, Dataset? trainDataset = null, Dataset? evalDataset = null,
        DataCollatorWithPadding? dataCollator = null, ComputeMetrics? computeMetrics = null, IEnumerable<TrainerCallback>? callbacks = null,
        PreTrainedTokenizer? tokenizer = null)
        : this(new TrainableSequenceClassificationModel(model), args, trainDataset, evalDataset,
            dataCollator ?? (tokenizer is null ? null : new DataCollatorWithPadding(tokenizer)), computeMetrics, callbacks)
    {
        if (tokenizer is not null) SaveTokenizerFiles = directory => tokenizer.SavePretrained(directory);
    }

    public TrainingArguments Args { get; }

    public Dataset? TrainDataset { get; }

    public Dataset? EvalDataset { get; }

    public ComputeMetrics? ComputeMetrics { get; }

    public TrainerState State { get; private set; } = new();

    public CallbackHandler CallbackHandler { get; }

    public AdamW? Optimizer { get; private set; }

    public LearningRateScheduler? LrScheduler { get; private set; }

    /// <summary>Train in dataset order instead of a seeded shuffle (the CLI's --no-shuffle).</summary>
    public bool ShuffleTrainData { get; init; } = true;

    /// <summary>Writes the tokenizer files into a folder (checkpoints and the final model); HF saves the tokenizer it was given.</summary>
    public Action<string>? SaveTokenizerFiles { get; init; }

    public void AddCallback(TrainerCallback callback) => CallbackHandler.AddCallback(callback);

    public T? PopCallback<T>() where T : TrainerCallback => CallbackHandler.PopCallback<T>();

    /// <summary>
    /// Trains (HF's train()). <paramref name="resumeFromCheckpoint"/> — or args.resume_from_checkpoint —
    /// names a checkpoint folder ("last" for the latest in output_dir) to continue exactly where it stopped.
    /// </summary>
    public TrainOutput Train(string? resumeFromCheckpoint = null)
    {
        var trainDataset = TrainDataset ?? throw new InvalidOperationException("Trainer.Train needs a train dataset.");
        var args = Args;
        var plan = TrainingPlan.Create(args, trainDataset.NumRows);
        var loader = new DataLoader(trainDataset, plan.TrainBatchSize, TrainingPlan.TrainSampler(args, trainDataset, ShuffleTrainData), collator, args.DataloaderDropLast);
        var parameters = model.Parameters;
        Optimizer = TrainerOptimization.CreateOptimizer(parameters, args);
        LrScheduler = TrainerOptimization.CreateScheduler(Optimizer, args, plan.MaxSteps);
        State = plan.NewState();
        long nonEmbeddingParameters = TrainerMetrics.NonEmbeddingParameterCount(parameters);

        int epochsTrained = 0;
        int batchesToSkip = 0;
        string? resumePath = resumeFromCheckpoint ?? args.ResumeFromCheckpoint;
        TrainerRngState? resumedRng = null;
        if (resumePath is not null)
        {
            resumePath = Checkpoints.ResolveResumePath(resumePath, args.OutputDir);
            Checkpoints.EnsureResumable(resumePath);
            model.LoadWeights(resumePath);
            State = TrainerState.LoadFromJson(Path.Combine(resumePath, TrainerState.FileName));
            Optimizer.Load(resumePath);
            LrScheduler.Load(resumePath);
            resumedRng = TrainerRngState.Load(resumePath);
            (epochsTrained, batchesToSkip) = plan.ResumePosition(State.GlobalStep, args.IgnoreDataSkip);
            var saved = resumedRng.Position;
            if (saved.GlobalStep != State.GlobalStep)
            {
                throw new InvalidDataException($"{resumePath}: {TrainerRngState.FileName} is from step {saved.GlobalStep} but {TrainerState.FileName} from step {State.GlobalStep}.");
            }
            // HF resumes at (global_step // updates_per_epoch, remainder × accumulation). That is exactly where the run
            // stopped unless an epoch's batches are not a multiple of the accumulation (then HF's resume is approximate
            // too); any other difference means the batch size, accumulation or data changed.
            if (saved.BatchesPerEpoch != plan.BatchesPerEpoch || (State.TrainBatchSize is int savedBatch && savedBatch != plan.TrainBatchSize))
            {
                throw new InvalidDataException(
                    $"{resumePath} was trained with {saved.BatchesPerEpoch} batches of {State.TrainBatchSize} per epoch; these arguments and data give " +
                    $"{plan.BatchesPerEpoch} batches of {plan.TrainBatchSize}: resume with the batch size, gradient accumulation and training data of the original run.");
            }
            long consumed = (long)saved.Epoch * plan.BatchesPerEpoch + saved.BatchesSeenInEpoch;
            long resumedAt = (long)epochsTrained * plan.BatchesPerEpoch + batchesToSkip;
            if (!args.IgnoreDataSkip && consumed != resumedAt && plan.BatchesPerEpoch % plan.GradientAccumulationSteps == 0)
            {
                throw new InvalidDataException(
                    $"{resumePath} was written after {consumed} batches (epoch {saved.Epoch}, batch {saved.BatchesSeenInEpoch}), but with these arguments " +
                    $"step {State.GlobalStep} falls after {resumedAt} (epoch {epochsTrained}, batch {batchesToSkip}): resume with the batch size, " +
                    "gradient accumulation and training data of the original run.");
            }
        }
        State.MaxSteps = plan.MaxSteps;
        State.NumTrainEpochs = plan.NumTrainEpochs;
        CallbackHandler.Optimizer = Optimizer;
        CallbackHandler.LrScheduler = LrScheduler;
        CallbackHandler.TrainDataLoader = loader;

        var losses = new TrainingLossTracker(State.GlobalStep);
        double? gradNorm = null;
        var clock = Stopwatch.StartNew();
        Optimizer.ZeroGrad();
        CallbackHandler.OnTrainBegin(args, State, control);
        int totalBatchedSamples = 0;
        for (int epoch = epochsTrained; epoch < plan.NumTrainEpochs; epoch++)
        {
            CallbackHandler.OnEpochBegin(args, State, control);
            int stepsSkipped = 0;
            if (epoch == epochsTrained && resumedRng is not null)
            {
                // The dropout stream (and a masking collator's) continues exactly where the checkpoint left it.
                dropoutRandom = SeededRandom.FromState(resumedRng.Generators["dropout"]);
                if (resumedRng.Generators.TryGetValue(CollatorGeneratorName, out var collatorState)) collatorRandom = SeededRandom.FromState(collatorState);
                stepsSkipped = batchesToSkip;
            }
            int step = -1;
            foreach (var batch in loader.Batches(epoch, stepsSkipped, collatorRandom))
            {
                step++;
                totalBatchedSamples++;
                if (step % args.GradientAccumulationSteps == 0) CallbackHandler.OnStepBegin(args, State, control);
                var output = model.Forward(batch, training: true, dropoutRandom);
                float loss = output.Loss ?? throw new InvalidOperationException("The training batch has no labels: the train dataset needs a label column.");
                if (!float.IsFinite(loss))
                {
                    LossGuard.EnsureFinite(loss, State.GlobalStep, State.Epoch, Optimizer.ParamGroups[0].LearningRate, Checkpoints.GetLastCheckpoint(args.OutputDir));
                }
                model.Backward(1f / args.GradientAccumulationSteps);
                losses.AddMicroBatchLoss(loss, args.GradientAccumulationSteps, State.GlobalStep, args.LoggingNanInfFilter);
                State.TotalFlos += TrainerMetrics.FloatingPointOps(batch.InputIds.Length, nonEmbeddingParameters);
                State.NumInputTokensSeen += batch.InputIds.Length;
                if (plan.IsOptimizerStep(totalBatchedSamples, step, plan.BatchesPerEpoch))
                {
                    if (args.MaxGradNorm > 0)
                    {
                        gradNorm = GradientClipping.ClipGradNorm(parameters, args.MaxGradNorm);
                    }
                    Optimizer.Step();
                    LrScheduler.Step();
                    Optimizer.ZeroGrad();
                    State.GlobalStep++;
                    State.Epoch = plan.EpochAt(epoch, step, stepsSkipped);
                    CallbackHandler.OnStepEnd(args, State, control);
                    MaybeLogSaveEvaluate(losses, gradNorm, new DataPosition(epoch, step + 1 + stepsSkipped, State.GlobalStep, plan.BatchesPerEpoch));
                }
                else
                {
                    CallbackHandler.OnSubstepEnd(args, State, control);
                }
                if (control.ShouldEpochStop || control.ShouldTrainingStop) break;
            }
            CallbackHandler.OnEpochEnd(args, State, control);
            MaybeLogSaveEvaluate(losses, gradNorm, new DataPosition(epoch, stepsSkipped + step + 1, State.GlobalStep, plan.BatchesPerEpoch));
            if (control.ShouldTrainingStop) break;
        }

        if (args.LoadBestModelAtEnd && State.BestModelCheckpoint is { } best)
        {
            model.LoadWeights(best);
        }
        double trainLoss = losses.TrainLoss(State.GlobalStep);
        var metrics = TrainerMetrics.SpeedMetrics("train", clock.Elapsed, plan.NumTrainSamples, plan.MaxSteps);
        metrics["total_flos"] = State.TotalFlos;
        metrics["train_loss"] = trainLoss;
        CallbackHandler.Log(args, State, control, metrics.ToDictionary(p => p.Key, p => (object)p.Value));
        if (State.BestModelCheckpoint is { } bestCheckpoint && args.SaveTotalLimit == 1)
        {
            Checkpoints.DeleteAllButBest(args.OutputDir, bestCheckpoint);
        }
        CallbackHandler.OnTrainEnd(args, State, control);
        return new TrainOutput(State.GlobalStep, trainLoss, metrics);
    }

    /// <summary>HF's evaluate(): loss and compute_metrics on the eval dataset, prefixed ("eval_loss", "eval_accuracy", …), logged.</summary>
    public Dictionary<string, double> Evaluate(Dataset? evalDataset = null, string metricKeyPrefix = "eval")
    {
        var dataset = evalDataset ?? EvalDataset ?? throw new InvalidOperationException("Trainer.Evaluate needs an eval dataset.");
        var clock = Stopwatch.StartNew();
        var (_, metrics, examples) = EvaluationLoop(dataset, metricKeyPrefix);
        foreach (var (key, value) in TrainerMetrics.SpeedMetrics(metricKeyPrefix, clock.Elapsed, examples,
                     Math.Ceiling((double)examples / Args.EvalBatchSize)))
        {
            metrics[key] = value;
        }
        CallbackHandler.Log(Args, State, control, metrics.ToDictionary(p => p.Key, p => (object)p.Value));
        CallbackHandler.OnEvaluate(Args, State, control, metrics);
        return metrics;
    }

    /// <summary>HF's predict(): logits, references and "test_"-prefixed metrics for a dataset (nothing is logged).</summary>
    public PredictionOutput Predict(Dataset testDataset, string metricKeyPrefix = "test")
    {
        ArgumentNullException.ThrowIfNull(testDataset);
        var clock = Stopwatch.StartNew();
        var (prediction, metrics, examples) = EvaluationLoop(testDataset, metricKeyPrefix);
        foreach (var (key, value) in TrainerMetrics.SpeedMetrics(metricKeyPrefix, clock.Elapsed, examples,
                     Math.Ceiling((double)examples / Args.EvalBatchSize)))
        {
            metrics[key] = value;
        }
        CallbackHandler.OnPredict(Args, State, control, metrics);
        return new PredictionOutput(prediction, metrics);
    }

    /// <summary>HF's save_model: the model folder (config.json, model.safetensors), the tokenizer files and training_args.json.</summary>
    public void SaveModel(string? outputDir = null)
    {
        string directory = outputDir ?? Args.OutputDir;
        Directory.CreateDirectory(directory);
        model.SavePretrained(directory);
        SaveTokenizerFiles?.Invoke(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, Checkpoints.TrainingArgumentsFileName), Args.ToJson());
    }

    /// <summary>HF's save_state: trainer_state.json in the output dir.</summary>
    public void SaveState() => State.SaveToJson(Path.Combine(Args.OutputDir, TrainerState.FileName));

    /// <summary>
    /// HF's save_metrics(split, metrics, combined=True): {split}_results.json, and the metrics merged
    /// into all_results.json (json.dump(indent=4, sort_keys=True)).
    /// </summary>
    public void SaveMetrics(string split, IReadOnlyDictionary<string, double> metrics) =>
        SaveMetrics(split, metrics.ToDictionary(p => p.Key, p => (object)p.Value));

    /// <summary>As <see cref="SaveMetrics(string, IReadOnlyDictionary{string, double})"/> with values of any JSON type (ints stay ints, e.g. train_samples).</summary>
    public void SaveMetrics(string split, IReadOnlyDictionary<string, object> metrics)
    {
        Directory.CreateDirectory(Args.OutputDir);
        AtomicFile.WriteAllText(Path.Combine(Args.OutputDir, $"{split}_results.json"), PythonJson.Serialize(metrics, indent: 4, sortKeys: true));
        string allPath = Path.Combine(Args.OutputDir, "all_results.json");
        var all = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (File.Exists(allPath))
        {
            using var document = System.Text.Json.JsonDocument.Parse(PythonJson.ToStrictJson(File.ReadAllText(allPath)));
            foreach (var property in document.RootElement.EnumerateObject())
            {
                all[property.Name] = property.Value.ValueKind == System.Text.Json.JsonValueKind.Number
                    ? property.Value.TryGetInt32(out int whole) && !property.Value.GetRawText().Contains('.') && !property.Value.GetRawText().Contains('e')
                        ? whole : property.Value.GetDouble()
                    : PythonJson.SpecialFloat(property.Value.GetString() ?? "") ?? (object?)property.Value.GetString();
            }
        }
        foreach (var (key, value) in metrics) all[key] = value;
        AtomicFile.WriteAllText(allPath, PythonJson.Serialize(all, indent: 4, sortKeys: true));
    }

    /// <returns>The predictions, the metrics, and the number of examples evaluated (a masked-LM model returns no per-example predictions).</returns>
    private (EvalPrediction Prediction, Dictionary<string, double> Metrics, int Examples) EvaluationLoop(Dataset dataset, string prefix)
    {
        var loader = new DataLoader(dataset, Args.EvalBatchSize, new SequentialSampler(dataset.NumRows), collator, Args.DataloaderDropLast);
        CallbackHandler.EvalDataLoader = loader;
        var accumulator = new EvaluationAccumulator();
        // A fresh generator per evaluation: a masking collator masks the eval set the same way every time,
        // so eval losses of different steps are comparable, and evaluating draws nothing from the training stream.
        foreach (var batch in loader.Batches(epoch: 0, random: CollatorRandom(Args.Seed)))
        {
            var output = model.Forward(batch, training: false, dropoutRandom: null);
            accumulator.Add(batch, output);
            CallbackHandler.OnPredictionStep(Args, State, control);
        }
        var metrics = accumulator.Metrics(Args.PredictionLossOnly ? null : ComputeMetrics, prefix);
        return (accumulator.Prediction(), metrics, accumulator.NumExamples);
    }

    private const string CollatorGeneratorName = "data_collator";

    /// <summary>The collator's generator: its own stream of the seed, apart from dropout's.</summary>
    private static SeededRandom CollatorRandom(int seed) => new(unchecked((ulong)(uint)seed | (0x636F6C6CUL << 32)));

    private void MaybeLogSaveEvaluate(TrainingLossTracker losses, double? gradNorm, DataPosition position)
    {
        var args = Args;
        if (control.ShouldLog && losses.TakeLoggedLoss(State.GlobalStep) is double loss)
        {
            var logs = new Dictionary<string, object> { ["loss"] = loss };
            if (gradNorm is double norm) logs["grad_norm"] = norm;
            logs["learning_rate"] = LrScheduler!.LastLearningRates[0];
            CallbackHandler.Log(args, State, control, logs);
        }
        Dictionary<string, double>? metrics = null;
        if (control.ShouldEvaluate)
        {
            metrics = Evaluate();
        }
        if (control.ShouldSave)
        {
            var rng = new TrainerRngState(new Dictionary<string, SeededRandomState>
            {
                ["dropout"] = dropoutRandom.SaveState(),
                [CollatorGeneratorName] = collatorRandom.SaveState(),
            }, position);
            Checkpoints.Save(args, State, folder =>
            {
                model.SavePretrained(folder);
                SaveTokenizerFiles?.Invoke(folder);
            }, Optimizer, LrScheduler, rng, metrics);
            CallbackHandler.OnSave(args, State, control);
        }
    }
}
