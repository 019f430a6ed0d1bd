using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// The step arithmetic of HF's Trainer.train (transformers 4.38), computed once from the arguments
/// and the training-set size: batches per epoch, optimizer steps per epoch, max_steps and epochs,
/// absolute logging/eval/save intervals (ratios resolved against max_steps), warmup, where a
/// resumed run restarts, when a micro-batch ends an optimizer step, and the fractional epoch.
/// </summary>
public sealed record TrainingPlan
{
    public required int NumExamples { get; init; }

    /// <summary>Rows per micro-batch (per_device_train_batch_size).</summary>
    public required int TrainBatchSize { get; init; }

    public required int GradientAccumulationSteps { get; init; }

    /// <summary>Examples per optimizer step (batch × accumulation; HF's total_train_batch_size).</summary>
    public int TotalTrainBatchSize => TrainBatchSize * GradientAccumulationSteps;

    /// <summary>Micro-batches per epoch (HF's len(train_dataloader)).</summary>
    public required int BatchesPerEpoch { get; init; }

    /// <summary>max(batches_per_epoch // gradient_accumulation_steps, 1).</summary>
    public required int NumUpdateStepsPerEpoch { get; init; }

    public required int MaxSteps { get; init; }

    public required int NumTrainEpochs { get; init; }

    /// <summary>Examples the run will process (HF's num_train_samples, for train_samples_per_second).</summary>
    public required double NumTrainSamples { get; init; }

    public required int LoggingSteps { get; init; }

    public required int EvalSteps { get; init; }

    public required int SaveSteps { get; init; }

    public required int WarmupSteps { get; init; }

    /// <summary>The plan of HF's train() for <paramref name="numTrainExamples"/> examples.</summary>
    public static TrainingPlan Create(TrainingArguments args, int numTrainExamples)
    {
        ArgumentNullException.ThrowIfNull(args);
        args.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(numTrainExamples);
        int batch = args.TrainBatchSize;
        int batches = args.DataloaderDropLast ? numTrainExamples / batch : (numTrainExamples + batch - 1) / batch;
        if (batches == 0)
        {
            throw new ArgumentException(numTrainExamples == 0
                ? "The training set is empty."
                : $"The training set has {numTrainExamples} examples, fewer than one batch of {batch} with dataloader_drop_last.");
        }
        int updatesPerEpoch = Math.Max(batches / args.GradientAccumulationSteps, 1);
        int maxSteps;
        int epochs;
        double samples;
        if (args.MaxSteps > 0)
        {
            maxSteps = args.MaxSteps;
            epochs = maxSteps / updatesPerEpoch + (maxSteps % updatesPerEpoch > 0 ? 1 : 0);
            samples = (double)maxSteps * batch * args.GradientAccumulationSteps;
        }
        else
        {
            maxSteps = (int)Math.Ceiling(args.NumTrainEpochs * updatesPerEpoch);
            epochs = (int)Math.Ceiling(args.NumTrainEpochs);
            samples = numTrainExamples * args.NumTrainEpochs;
        }
        if (maxSteps <= 0)
        {
            throw new ArgumentException("Nothing to train: num_train_epochs is 0 and max_steps is not set.");
        }
        return new TrainingPlan
        {
            NumExamples = numTrainExamples,
            TrainBatchSize = batch,
            GradientAccumulationSteps = args.GradientAccumulationSteps,
            BatchesPerEpoch = batches,
            NumUpdateStepsPerEpoch = updatesPerEpoch,
            MaxSteps = maxSteps,
            NumTrainEpochs = epochs,
            NumTrainSamples = samples,
            LoggingSteps = Absolute(args.LoggingSteps, maxSteps),
            EvalSteps = args.EvalSteps is double e ? Absolute(e, maxSteps) : 500,
            SaveSteps = Absolute(args.SaveSteps, maxSteps),
            WarmupSteps = args.GetWarmupSteps(maxSteps),
        };

        static int Absolute(double steps, int maxSteps) => steps < 1 ? (int)Math.Ceiling(maxSteps * steps) : (int)steps;
    }

    /// <summary>A fresh state for this plan (HF sets these at the start of train()).</summary>
    public TrainerState NewState() => new()
    {
        MaxSteps = MaxSteps,
        NumTrainEpochs = NumTrainEpochs,
        TrainBatchSize = TrainBatchSize,
        LoggingSteps = LoggingSteps,
        EvalSteps = EvalSteps,
        SaveSteps = SaveSteps,
        Epoch = 0,
    };

    /// <summary>
    /// Where a run resumed at <paramref name="globalStep"/> continues (HF): epochs already trained
    /// = global_step // updates_per_epoch, and the micro-batches of the current epoch to skip =
    /// (global_step % updates_per_epoch) × accumulation (none with ignore_data_skip).
    /// </summary>
    public (int EpochsTrained, int BatchesToSkip) ResumePosition(int globalStep, bool ignoreDataSkip = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(globalStep);
        int epochs = globalStep / NumUpdateStepsPerEpoch;
        int skip = ignoreDataSkip ? 0 : globalStep % NumUpdateStepsPerEpoch * GradientAccumulationSteps;
        return (epochs, skip);
    }

    /// <summary>
    /// Whether the micro-batch just processed ends an optimizer step (HF): every
    /// gradient_accumulation_steps micro-batches, or at the last micro-batch of an epoch shorter
    /// than one accumulation.
    /// </summary>
    /// <param name="totalBatchedSamples">Micro-batches processed since train() started, this one included (1-based).</param>
    /// <param name="stepInEpoch">This micro-batch's index among those iterated this epoch (0-based, after any skip).</param>
    /// <param name="stepsInEpoch">Micro-batches in an epoch (<see cref="BatchesPerEpoch"/>).</param>
    public bool IsOptimizerStep(int totalBatchedSamples, int stepInEpoch, int stepsInEpoch)
    {
        bool lastStepOfShortEpoch = stepsInEpoch <= GradientAccumulationSteps && stepInEpoch + 1 == stepsInEpoch;
        return totalBatchedSamples % GradientAccumulationSteps == 0 || lastStepOfShortEpoch;
    }

    /// <summary>HF's fractional epoch after a step: epoch + (step + 1 + steps_skipped) / steps_in_epoch.</summary>
    public double EpochAt(int epoch, int stepInEpoch, int stepsSkipped) =>
        epoch + (double)(stepInEpoch + 1 + stepsSkipped) / BatchesPerEpoch;

    /// <summary>The training sampler HF would use: length-grouped (with batch × accumulation), random, or sequential (for --no-shuffle).</summary>
    public static ISampler TrainSampler(TrainingArguments args, Dataset trainDataset, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(trainDataset);
        if (!shuffle) return new SequentialSampler(trainDataset.NumRows);
        if (args.GroupByLength)
        {
            var lengths = LengthGroupedSampler.LengthsOf(trainDataset, args.LengthColumnName);
            return new LengthGroupedSampler(lengths, args.TrainBatchSize * args.GradientAccumulationSteps, args.SamplerSeed);
        }
        return new RandomSampler(trainDataset.NumRows, args.SamplerSeed);
    }
}

/// <summary>
/// HF's running training loss: per micro-batch loss / gradient_accumulation_steps accumulated in a
/// float32 (as the tr_loss tensor), averaged per optimizer step at each log and rounded to 4
/// decimals, and the overall train_loss at the end. NaN/inf micro-batch losses are replaced by the
/// running average when logging_nan_inf_filter is on (HF's behaviour; <see cref="LossGuard"/> stops
/// the run before that matters in Sharpformers).
/// </summary>
public sealed class TrainingLossTracker
{
    private float trLoss;
    private double totalLossScalar;

    public TrainingLossTracker(int globalStep = 0)
    {
        GlobalStepLastLogged = globalStep;
    }

    public int GlobalStepLastLogged { get; private set; }

    /// <summary>Adds one micro-batch's loss (the unscaled mean loss of the batch).</summary>
    public void AddMicroBatchLoss(float loss, int gradientAccumulationSteps, int globalStep, bool nanInfFilter)
    {
        float step = loss / gradientAccumulationSteps;
        if (nanInfFilter && !float.IsFinite(step))
        {
            trLoss += trLoss / (1 + globalStep - GlobalStepLastLogged);
        }
        else
        {
            trLoss += step;
        }
    }

    /// <summary>HF's logged "loss": the mean per optimizer step since the last log, rounded to 4 decimals; null when no step happened since.</summary>
    public double? TakeLoggedLoss(int globalStep)
    {
        if (globalStep <= GlobalStepLastLogged) return null;
        double scalar = trLoss;
        trLoss -= trLoss;
        double logged = PythonJson.Round(scalar / (globalStep - GlobalStepLastLogged), 4);
        totalLossScalar += scalar;
        GlobalStepLastLogged = globalStep;
        return logged;
    }

    /// <summary>HF's final train_loss: all accumulated loss / max(global_step, 0.001).</summary>
    public double TrainLoss(int globalStep)
    {
        totalLossScalar += trLoss;
        trLoss = 0;
        return totalLossScalar / Math.Max(globalStep, 0.001);
    }
}

/// <summary>The NaN/inf loss check: a diverged run stops with a message saying where and what to try.</summary>
public static class LossGuard
{
    /// <summary>Throws <see cref="TrainingDivergedException"/> when <paramref name="loss"/> is NaN or infinite.</summary>
    public static void EnsureFinite(float loss, int globalStep, double? epoch, double learningRate, string? lastCheckpoint = null)
    {
        if (float.IsFinite(loss)) return;
        string what = float.IsNaN(loss) ? "NaN" : "infinite";
        string where = epoch is double e ? $"step {globalStep + 1} (epoch {PythonJson.FormatFloat(PythonJson.Round(e, 2))})" : $"step {globalStep + 1}";
        throw new TrainingDivergedException(
            $"The training loss became {what} at {where} with learning rate {learningRate.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}; training stopped. " +
            "Try a lower learning_rate, more warmup_steps, or gradient clipping (max_grad_norm)" +
            (lastCheckpoint is null ? "." : $"; the last good checkpoint is {lastCheckpoint}."),
            globalStep, loss);
    }

    /// <summary>The name of the first parameter whose gradient holds NaN or infinity, or null.</summary>
    public static string? FirstNonFiniteGradient(IEnumerable<ITrainableParameter> parameters)
    {
        foreach (var parameter in parameters)
        {
            if (!GradientKernels.AllFinite(parameter.Gradient)) return parameter.Name;
        }
        return null;
    }
}

/// <summary>A training run whose loss became NaN or infinite.</summary>
public sealed class TrainingDivergedException(string message, int globalStep, float loss) : InvalidOperationException(message)
{
    /// <summary>Optimizer steps completed before the bad loss.</summary>
    public int GlobalStep { get; } = globalStep;

    public float Loss { get; } = loss;
}
