using System.Globalization;
using System.Text;
using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// What a callback event can see besides (args, state, control) — HF passes these as kwargs:
/// the model, optimizer, scheduler and data loaders, plus <see cref="Metrics"/> in on_evaluate /
/// on_predict and <see cref="Logs"/> in on_log.
/// </summary>
public sealed class TrainerCallbackContext
{
    public ITrainableModel? Model { get; init; }

    public AdamW? Optimizer { get; init; }

    public LearningRateScheduler? LrScheduler { get; init; }

    public DataLoader? TrainDataLoader { get; init; }

    public DataLoader? EvalDataLoader { get; init; }

    /// <summary>The metrics of the evaluation that just finished (on_evaluate, on_predict).</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>The values just logged (on_log), without "step".</summary>
    public IReadOnlyDictionary<string, object>? Logs { get; init; }
}

/// <summary>
/// HF's <c>TrainerCallback</c>: override the events to observe or steer training through
/// <see cref="TrainerControl"/>. Every event receives the arguments, the state, the control and a
/// <see cref="TrainerCallbackContext"/>.
/// </summary>
public abstract class TrainerCallback
{
    /// <summary>At the end of the Trainer's construction.</summary>
    public virtual void OnInitEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    public virtual void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    public virtual void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    public virtual void OnEpochBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    public virtual void OnEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>Before the first micro-batch of an optimizer step.</summary>
    public virtual void OnStepBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After a micro-batch that did not end an optimizer step (gradient accumulation).</summary>
    public virtual void OnSubstepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After an optimizer step (global_step already incremented).</summary>
    public virtual void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After an evaluation; <see cref="TrainerCallbackContext.Metrics"/> holds its eval_* metrics.</summary>
    public virtual void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    public virtual void OnPredict(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After a checkpoint was written.</summary>
    public virtual void OnSave(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After a log entry was appended; <see cref="TrainerCallbackContext.Logs"/> holds it.</summary>
    public virtual void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }

    /// <summary>After each evaluation batch.</summary>
    public virtual void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) { }
}

/// <summary>
/// Calls the callbacks in order (HF's CallbackHandler), resetting the control switches as HF
/// does before each event, and implements HF's <c>Trainer.log</c> (<see cref="Log"/>).
/// </summary>
public sealed class CallbackHandler
{
    private readonly List<TrainerCallback> callbacks = [];

    public CallbackHandler(IEnumerable<TrainerCallback> callbacks)
    {
        foreach (var callback in callbacks) AddCallback(callback);
    }

    public IReadOnlyList<TrainerCallback> Callbacks => callbacks;

    public ITrainableModel? Model { get; set; }

    public AdamW? Optimizer { get; set; }

    public LearningRateScheduler? LrScheduler { get; set; }

    public DataLoader? TrainDataLoader { get; set; }

    public DataLoader? EvalDataLoader { get; set; }

    /// <summary>True when no DefaultFlowCallback is registered (HF warns: logging, evaluation and saving would never trigger).</summary>
    public bool LacksDefaultFlow => !callbacks.Any(c => c is DefaultFlowCallback);

    public void AddCallback(TrainerCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        callbacks.Add(callback);
    }

    /// <summary>Removes and returns the first callback of type <typeparamref name="T"/> (HF's pop_callback).</summary>
    public T? PopCallback<T>() where T : TrainerCallback
    {
        var found = callbacks.OfType<T>().FirstOrDefault();
        if (found is not null) callbacks.Remove(found);
        return found;
    }

    public void RemoveCallback(TrainerCallback callback) => callbacks.Remove(callback);

    public void OnInitEnd(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnInitEnd(args, state, control, x));

    public void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control)
    {
        control.NewTraining();
        Call((c, x) => c.OnTrainBegin(args, state, control, x));
    }

    public void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnTrainEnd(args, state, control, x));

    public void OnEpochBegin(TrainingArguments args, TrainerState state, TrainerControl control)
    {
        control.NewEpoch();
        Call((c, x) => c.OnEpochBegin(args, state, control, x));
    }

    public void OnEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnEpochEnd(args, state, control, x));

    public void OnStepBegin(TrainingArguments args, TrainerState state, TrainerControl control)
    {
        control.NewStep();
        Call((c, x) => c.OnStepBegin(args, state, control, x));
    }

    public void OnSubstepEnd(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnSubstepEnd(args, state, control, x));

    public void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnStepEnd(args, state, control, x));

    public void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, IReadOnlyDictionary<string, double> metrics)
    {
        control.ShouldEvaluate = false;
        Call((c, x) => c.OnEvaluate(args, state, control, x), metrics: metrics);
    }

    public void OnPredict(TrainingArguments args, TrainerState state, TrainerControl control, IReadOnlyDictionary<string, double> metrics) =>
        Call((c, x) => c.OnPredict(args, state, control, x), metrics: metrics);

    public void OnSave(TrainingArguments args, TrainerState state, TrainerControl control)
    {
        control.ShouldSave = false;
        Call((c, x) => c.OnSave(args, state, control, x));
    }

    public void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, IReadOnlyDictionary<string, object> logs)
    {
        control.ShouldLog = false;
        Call((c, x) => c.OnLog(args, state, control, x), logs: logs);
    }

    public void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control) =>
        Call((c, x) => c.OnPredictionStep(args, state, control, x));

    /// <summary>
    /// HF's Trainer.log: adds "epoch" (rounded to 2 decimals) when training has an epoch, and
    /// "num_input_tokens_seen" when asked; appends {logs…, "step": global_step} to the state's
    /// log_history; then fires on_log with the logs (without "step"). Returns the history entry.
    /// </summary>
    public Dictionary<string, object> Log(TrainingArguments args, TrainerState state, TrainerControl control, IReadOnlyDictionary<string, object> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var values = new Dictionary<string, object>(logs, StringComparer.Ordinal);
        if (state.Epoch is double epoch) values["epoch"] = PythonJson.Round(epoch, 2);
        if (args.IncludeNumInputTokensSeen) values["num_input_tokens_seen"] = state.NumInputTokensSeen;
        var entry = new Dictionary<string, object>(values, StringComparer.Ordinal) { ["step"] = state.GlobalStep };
        state.LogHistory.Add(entry);
        OnLog(args, state, control, values);
        return entry;
    }

    private void Call(Action<TrainerCallback, TrainerCallbackContext> invoke, IReadOnlyDictionary<string, double>? metrics = null, IReadOnlyDictionary<string, object>? logs = null)
    {
        var context = new TrainerCallbackContext
        {
            Model = Model,
            Optimizer = Optimizer,
            LrScheduler = LrScheduler,
            TrainDataLoader = TrainDataLoader,
            EvalDataLoader = EvalDataLoader,
            Metrics = metrics,
            Logs = logs,
        };
        foreach (var callback in callbacks) invoke(callback, context);
    }
}

/// <summary>
/// HF's <c>DefaultFlowCallback</c> (transformers 4.38): decides when to log, evaluate and save from
/// the strategies and the state's step intervals, and stops at max_steps.
/// </summary>
public sealed class DefaultFlowCallback : TrainerCallback
{
    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (state.GlobalStep == 1 && args.LoggingFirstStep) control.ShouldLog = true;
        if (args.LoggingStrategy == IntervalStrategy.Steps && state.LoggingSteps > 0 && state.GlobalStep % state.LoggingSteps == 0) control.ShouldLog = true;
        if (args.EvalStrategy == IntervalStrategy.Steps && state.EvalSteps > 0 && state.GlobalStep % state.EvalSteps == 0 && args.EvalDelay <= state.GlobalStep)
        {
            control.ShouldEvaluate = true;
        }
        if (args.SaveStrategy == IntervalStrategy.Steps && state.SaveSteps > 0 && state.GlobalStep % state.SaveSteps == 0) control.ShouldSave = true;
        if (state.GlobalStep >= state.MaxSteps) control.ShouldTrainingStop = true;
    }

    public override void OnEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (args.LoggingStrategy == IntervalStrategy.Epoch) control.ShouldLog = true;
        if (args.EvalStrategy == IntervalStrategy.Epoch && args.EvalDelay <= (state.Epoch ?? 0)) control.ShouldEvaluate = true;
        if (args.SaveStrategy == IntervalStrategy.Epoch) control.ShouldSave = true;
    }
}

/// <summary>
/// HF's <c>EarlyStoppingCallback</c>: stops training when metric_for_best_model has not improved
/// (by more than <see cref="EarlyStoppingThreshold"/>) on <see cref="EarlyStoppingPatience"/>
/// evaluations in a row. Needs load_best_model_at_end and an eval strategy.
/// </summary>
public sealed class EarlyStoppingCallback(int earlyStoppingPatience = 1, double earlyStoppingThreshold = 0.0) : TrainerCallback
{
    public int EarlyStoppingPatience { get; } = earlyStoppingPatience >= 1 ? earlyStoppingPatience : throw new ArgumentOutOfRangeException(nameof(earlyStoppingPatience), "Patience must be at least 1.");

    public double EarlyStoppingThreshold { get; } = earlyStoppingThreshold >= 0 ? earlyStoppingThreshold : throw new ArgumentOutOfRangeException(nameof(earlyStoppingThreshold), "The threshold must not be negative.");

    /// <summary>Evaluations in a row without improvement.</summary>
    public int EarlyStoppingPatienceCounter { get; private set; }

    /// <summary>Set when an evaluation lacked the metric (HF logs a warning and skips early stopping).</summary>
    public string? Warning { get; private set; }

    public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (!args.LoadBestModelAtEnd) throw new InvalidOperationException("EarlyStoppingCallback requires load_best_model_at_end = True");
        if (args.MetricForBestModel is null) throw new InvalidOperationException("EarlyStoppingCallback requires metric_for_best_model is defined");
        if (args.EvalStrategy == IntervalStrategy.No) throw new InvalidOperationException("EarlyStoppingCallback requires IntervalStrategy of steps or epoch");
    }

    public override void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        string metric = Checkpoints.MetricKey(args.MetricForBestModel ?? "loss");
        if (context.Metrics is null || !context.Metrics.TryGetValue(metric, out double value))
        {
            Warning = $"early stopping required metric_for_best_model, but did not find {metric} so early stopping is disabled";
            return;
        }
        bool greater = args.GreaterIsBetter ?? false;
        bool improved = state.BestMetric is not double best
            || ((greater ? value > best : value < best) && Math.Abs(value - best) > EarlyStoppingThreshold);
        EarlyStoppingPatienceCounter = improved ? 0 : EarlyStoppingPatienceCounter + 1;
        if (EarlyStoppingPatienceCounter >= EarlyStoppingPatience) control.ShouldTrainingStop = true;
    }
}

/// <summary>
/// Shows training progress like HF's ProgressCallback (tqdm): on a terminal a bar with steps, it/s,
/// ETA and the last loss redrawn in place, and each log as a line above it; when output is
/// redirected, plain lines (a progress line every few seconds and every log as
/// <c>{'loss': 0.6931, 'learning_rate': 5e-05, 'epoch': 0.1}</c>, total_flos left out as HF does).
/// </summary>
public sealed class ProgressCallback(TextWriter? writer = null, bool? interactive = null) : TrainerCallback
{
    private readonly TextWriter output = writer ?? Console.Error;
    private ProgressBar? trainingBar;
    private ProgressBar? predictionBar;

    private bool Interactive => interactive ?? (writer is null && !Console.IsErrorRedirected);

    public override void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (args.DisableTqdm) return;
        trainingBar = new ProgressBar("Training", state.MaxSteps, "it", output, Interactive);
        trainingBar.Report(state.GlobalStep);
    }

    public override void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) =>
        trainingBar?.Report(state.GlobalStep);

    public override void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (args.DisableTqdm) return;
        predictionBar ??= new ProgressBar("Evaluating", context.EvalDataLoader?.Count ?? 0, "it", output, Interactive);
        predictionBar.Advance();
    }

    public override void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) => ClosePredictionBar();

    public override void OnPredict(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context) => ClosePredictionBar();

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (args.DisableTqdm || context.Logs is null) return;
        var shown = context.Logs.Where(p => p.Key != "total_flos").ToList();
        if (trainingBar is not null && context.Logs.TryGetValue("loss", out var loss))
        {
            trainingBar.SetPostfix("loss=" + PythonRepr(loss));
        }
        string line = "{" + string.Join(", ", shown.Select(p => $"'{p.Key}': {PythonRepr(p.Value)}")) + "}";
        lock (output)
        {
            if (Interactive) output.Write("\r\u001b[K");
            output.WriteLine(line);
            output.Flush();
        }
    }

    public override void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        trainingBar?.Finish();
        trainingBar = null;
    }

    private void ClosePredictionBar()
    {
        if (predictionBar is null) return;
        if (Interactive)
        {
            // HF's eval bar does not stay: clear its line so the training bar continues cleanly.
            lock (output)
            {
                output.Write("\r\u001b[K");
                output.Flush();
            }
        }
        else
        {
            predictionBar.Finish();
        }
        predictionBar = null;
    }

    /// <summary>Python's repr of a logged value (floats as repr(float), nan/inf as Python prints them).</summary>
    internal static string PythonRepr(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d when double.IsNaN(d) => "nan",
        double d when double.IsInfinity(d) => d > 0 ? "inf" : "-inf",
        double d => PythonJson.FormatFloat(d),
        float f => PythonRepr((double)f),
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Writes every log as one line (HF's PrinterCallback, used when the progress bar is disabled).</summary>
public sealed class PrinterCallback(TextWriter? writer = null) : TrainerCallback
{
    private readonly TextWriter output = writer ?? Console.Out;

    public override void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
    {
        if (context.Logs is null) return;
        var sb = new StringBuilder("{");
        sb.AppendJoin(", ", context.Logs.Where(p => p.Key != "total_flos").Select(p => $"'{p.Key}': {ProgressCallback.PythonRepr(p.Value)}"));
        output.WriteLine(sb.Append('}').ToString());
    }
}
