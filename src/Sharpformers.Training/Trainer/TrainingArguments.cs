using System.Globalization;
using System.Text.Json;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>When something happens during training (HF's IntervalStrategy): never, every N steps, or each epoch.</summary>
public enum IntervalStrategy
{
    No,
    Steps,
    Epoch,
}

/// <summary>
/// HF's <c>TrainingArguments</c>: the same settings, names (in .NET casing) and defaults, and the
/// same derivations and checks as its <c>__post_init__</c> — eval_steps falls back to logging_steps,
/// metric_for_best_model defaults to "loss" with load_best_model_at_end, greater_is_better follows
/// from the metric's name, and load_best_model_at_end requires matching save and eval strategies.
/// <see cref="Validate"/> performs the checks (the Trainer calls it). <see cref="ToJson"/> writes
/// HF's <c>to_json_string()</c> layout for the settings we support (we cannot write torch's
/// training_args.bin pickle); <see cref="FromJson"/> and <see cref="With(string, string?)"/> read them back,
/// the latter taking the snake_case or kebab-case names the CLI uses.
/// </summary>
public sealed record TrainingArguments
{
    private double? evalSteps;
    private string? metricForBestModel;
    private bool? greaterIsBetter;
    private bool doEval;
    private string? runName;

    /// <summary>Where checkpoints, trainer_state.json and the final model go.</summary>
    public required string OutputDir { get; init; }

    /// <summary>Allow writing into an output dir that already holds checkpoints (HF: overwrite_output_dir).</summary>
    public bool OverwriteOutputDir { get; init; }

    public bool DoTrain { get; init; }

    /// <summary>True when set, or when <see cref="EvalStrategy"/> is not No (as HF derives it).</summary>
    public bool DoEval { get => doEval || EvalStrategy != IntervalStrategy.No; init => doEval = value; }

    public bool DoPredict { get; init; }

    public IntervalStrategy EvalStrategy { get; init; } = IntervalStrategy.No;

    /// <summary>Evaluation computes only the loss, no predictions/metrics.</summary>
    public bool PredictionLossOnly { get; init; }

    public int PerDeviceTrainBatchSize { get; init; } = 8;

    public int PerDeviceEvalBatchSize { get; init; } = 8;

    /// <summary>Micro-batches whose gradients are summed (each loss scaled by 1/N) before one optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Epochs or steps (per <see cref="EvalStrategy"/>) to wait before the first evaluation.</summary>
    public double EvalDelay { get; init; }

    public double LearningRate { get; init; } = 5e-5;

    public double WeightDecay { get; init; }

    public double AdamBeta1 { get; init; } = 0.9;

    public double AdamBeta2 { get; init; } = 0.999;

    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Clip gradients to this global L2 norm; 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    public double NumTrainEpochs { get; init; } = 3.0;

    /// <summary>When positive, the number of optimizer steps to run, overriding <see cref="NumTrainEpochs"/>.</summary>
    public int MaxSteps { get; init; } = -1;

    public SchedulerType LrSchedulerType { get; init; } = SchedulerType.Linear;

    /// <summary>Extra schedule parameters (num_cycles, lr_end, power, …), HF's lr_scheduler_kwargs.</summary>
    public IReadOnlyDictionary<string, double> LrSchedulerKwargs { get; init; } = new Dictionary<string, double>();

    /// <summary>Warmup as a fraction of the training steps, used when <see cref="WarmupSteps"/> is 0.</summary>
    public double WarmupRatio { get; init; }

    public int WarmupSteps { get; init; }

    public IntervalStrategy LoggingStrategy { get; init; } = IntervalStrategy.Steps;

    public bool LoggingFirstStep { get; init; }

    /// <summary>Log every N steps; a value below 1 is a fraction of the training steps.</summary>
    public double LoggingSteps { get; init; } = 500;

    /// <summary>Skip NaN/inf losses when averaging the logged loss (HF's behaviour; Sharpformers stops on them anyway).</summary>
    public bool LoggingNanInfFilter { get; init; } = true;

    public IntervalStrategy SaveStrategy { get; init; } = IntervalStrategy.Steps;

    /// <summary>Save every N steps; a value below 1 is a fraction of the training steps.</summary>
    public double SaveSteps { get; init; } = 500;

    /// <summary>Keep at most this many checkpoints (oldest deleted first, never the best); null or ≤ 0 keeps all.</summary>
    public int? SaveTotalLimit { get; init; }

    public bool SaveSafetensors { get; init; } = true;

    /// <summary>Checkpoints hold only the model, no optimizer/scheduler/RNG state (cannot be resumed).</summary>
    public bool SaveOnlyModel { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Seed for data sampling; defaults to <see cref="Seed"/>.</summary>
    public int? DataSeed { get; init; }

    public bool DataloaderDropLast { get; init; }

    /// <summary>Evaluate every N steps (with EvalStrategy Steps); defaults to <see cref="LoggingSteps"/>.</summary>
    public double? EvalSteps
    {
        get => evalSteps is double e && e != 0 ? e : EvalStrategy == IntervalStrategy.Steps && LoggingSteps > 0 ? LoggingSteps : evalSteps;
        init => evalSteps = value;
    }

    /// <summary>A name for the run; defaults to <see cref="OutputDir"/>.</summary>
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public string RunName { get => runName ?? OutputDir; init => runName = value; }

    public bool DisableTqdm { get; init; }

    public bool LoadBestModelAtEnd { get; init; }

    /// <summary>The metric that picks the best checkpoint; "loss" by default with load_best_model_at_end.</summary>
    public string? MetricForBestModel
    {
        get => metricForBestModel ?? (LoadBestModelAtEnd ? "loss" : null);
        init => metricForBestModel = value;
    }

    /// <summary>Whether a larger metric is better; by default true unless the metric is "loss"/"eval_loss".</summary>
    public bool? GreaterIsBetter
    {
        get => greaterIsBetter ?? (MetricForBestModel is { } metric ? metric is not ("loss" or "eval_loss") : null);
        init => greaterIsBetter = value;
    }

    /// <summary>On resume, do not skip the batches the interrupted epoch had already seen.</summary>
    public bool IgnoreDataSkip { get; init; }

    /// <summary>The optimizer; Sharpformers implements "adamw_torch" (HF's default).</summary>
    public string Optim { get; init; } = "adamw_torch";

    /// <summary>Batch similar lengths together (HF's LengthGroupedSampler) to reduce padding.</summary>
    public bool GroupByLength { get; init; }

    public string LengthColumnName { get; init; } = "length";

    /// <summary>A checkpoint folder to resume from (model, optimizer, scheduler, RNG and data position).</summary>
    public string? ResumeFromCheckpoint { get; init; }

    public bool IncludeNumInputTokensSeen { get; init; }

    /// <summary>HF's train_batch_size (one device).</summary>
    public int TrainBatchSize => PerDeviceTrainBatchSize;

    public int EvalBatchSize => PerDeviceEvalBatchSize;

    /// <summary>HF's get_warmup_steps: warmup_steps when positive, else ceil(num_training_steps × warmup_ratio).</summary>
    public int GetWarmupSteps(int numTrainingSteps) =>
        WarmupSteps > 0 ? WarmupSteps : (int)Math.Ceiling(numTrainingSteps * WarmupRatio);

    /// <summary>The seed the data samplers use (data_seed, else seed).</summary>
    public int SamplerSeed => DataSeed ?? Seed;

    /// <summary>HF's __post_init__ checks, plus range checks of our own; throws ArgumentException naming the setting.</summary>
    public TrainingArguments Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDir)) throw new ArgumentException("output_dir must be set.");
        Positive(PerDeviceTrainBatchSize, "per_device_train_batch_size");
        Positive(PerDeviceEvalBatchSize, "per_device_eval_batch_size");
        Positive(GradientAccumulationSteps, "gradient_accumulation_steps");
        NotNegative(LearningRate, "learning_rate");
        NotNegative(WeightDecay, "weight_decay");
        NotNegative(MaxGradNorm, "max_grad_norm");
        NotNegative(AdamEpsilon, "adam_epsilon");
        NotNegative(NumTrainEpochs, "num_train_epochs");
        NotNegative(WarmupSteps, "warmup_steps");
        NotNegative(EvalDelay, "eval_delay");
        if (!(AdamBeta1 >= 0 && AdamBeta1 < 1)) throw new ArgumentException($"adam_beta1 must lie in [0, 1), got {Show(AdamBeta1)}.");
        if (!(AdamBeta2 >= 0 && AdamBeta2 < 1)) throw new ArgumentException($"adam_beta2 must lie in [0, 1), got {Show(AdamBeta2)}.");
        if (MaxSteps < -1) throw new ArgumentException($"max_steps must be positive, or -1 to train for num_train_epochs; got {MaxSteps}.");
        if (WarmupRatio < 0 || WarmupRatio > 1) throw new ArgumentException("warmup_ratio must lie in the range [0,1].");
        if (Optim != "adamw_torch")
        {
            throw new NotSupportedException($"optim '{Optim}' is not supported; Sharpformers implements 'adamw_torch' (torch.optim.AdamW, HF's default).");
        }
        if (EvalStrategy == IntervalStrategy.Steps && (EvalSteps is null || EvalSteps == 0))
        {
            throw new ArgumentException("evaluation strategy steps requires either non-zero --eval_steps or --logging_steps");
        }
        if (LoggingStrategy == IntervalStrategy.Steps && LoggingSteps == 0)
        {
            throw new ArgumentException("logging strategy steps requires non-zero --logging_steps");
        }
        CheckSteps(LoggingSteps, "logging_steps");
        CheckSteps(SaveSteps, "save_steps");
        if (EvalSteps is double eval) CheckSteps(eval, "eval_steps");
        if (LoadBestModelAtEnd)
        {
            if (EvalStrategy != SaveStrategy)
            {
                throw new ArgumentException(
                    "--load_best_model_at_end requires the save and eval strategy to match, but found\n" +
                    $"- Evaluation strategy: {EvalStrategy.ToHuggingFaceName()}\n- Save strategy: {SaveStrategy.ToHuggingFaceName()}");
            }
            if (EvalStrategy == IntervalStrategy.Steps && EvalSteps is double e && SaveSteps % e != 0)
            {
                if (e >= 1 && SaveSteps >= 1)
                {
                    throw new ArgumentException(
                        "--load_best_model_at_end requires the saving steps to be a round multiple of the evaluation steps, " +
                        $"but found {ShowSteps(SaveSteps)}, which is not a round multiple of {ShowSteps(e)}.");
                }
                if (!(e < 1 && SaveSteps < 1))
                {
                    throw new ArgumentException(
                        "--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, which cannot get " +
                        $"guaranteed when mixing ratio and absolute steps for save_steps {Show(SaveSteps)} and eval_steps {Show(e)}.");
                }
                // Ratios: compare at a fixed precision to dodge floating-point remainders, as HF does.
                if (Math.Round(SaveSteps * 1e6) % Math.Round(e * 1e6) != 0)
                {
                    throw new ArgumentException(
                        "--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, " +
                        $"but found {Show(SaveSteps)}, which is not a multiple of {Show(e)}.");
                }
            }
            if (EvalStrategy == IntervalStrategy.No)
            {
                throw new ArgumentException("--load_best_model_at_end needs evaluations: set eval_strategy (and save_strategy) to steps or epoch.");
            }
        }
        foreach (var key in LrSchedulerKwargs.Keys)
        {
            if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException("lr_scheduler_kwargs has an empty key.");
        }
        return this;

        static void Positive(int value, string name)
        {
            if (value < 1) throw new ArgumentException($"{name} must be at least 1, got {value}.");
        }

        static void NotNegative(double value, string name)
        {
            if (!(value >= 0)) throw new ArgumentException($"{name} must not be negative, got {Show(value)}.");
        }

        static void CheckSteps(double value, string name)
        {
            if (value < 0 || double.IsNaN(value)) throw new ArgumentException($"--{name} must not be negative: {Show(value)}");
            if (value > 1 && value != Math.Floor(value)) throw new ArgumentException($"--{name} must be an integer if bigger than 1: {Show(value)}");
        }
    }

    /// <summary>HF's to_json_string(): the settings as a JSON object, indent 2, HF's field order.</summary>
    public string ToJson() => PythonJson.Serialize(Fields.Select(f => new KeyValuePair<string, object?>(f.Name, f.Get(this))).ToList(), indent: 2) + "\n";

    /// <summary>Reads what <see cref="ToJson"/> wrote (or HF's to_json_string for the supported keys).</summary>
    /// <param name="ignoreUnknownKeys">Skip keys Sharpformers does not model (e.g. fp16 in a file written by Python).</param>
    public static TrainingArguments FromJson(string json, string source = "training_args.json", bool ignoreUnknownKeys = false)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON ({e.Message}).", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: expected a JSON object.");
            string outputDir = document.RootElement.TryGetProperty("output_dir", out var dir) && dir.ValueKind == JsonValueKind.String
                ? dir.GetString()!
                : throw new InvalidDataException($"{source}: missing \"output_dir\".");
            var args = new TrainingArguments { OutputDir = outputDir };
            var unknown = new List<string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var field = Fields.FirstOrDefault(f => f.Name == property.Name);
                if (field is null)
                {
                    unknown.Add(property.Name);
                    continue;
                }
                string? text = property.Value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => property.Value.GetRawText(),
                };
                try
                {
                    args = field.Set(args, text);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"{source}: {e.Message}", e);
                }
            }
            if (unknown.Count > 0 && !ignoreUnknownKeys)
            {
                throw new InvalidDataException($"{source}: unknown training arguments [{string.Join(", ", unknown)}].");
            }
            return args;
        }
    }

    /// <summary>
    /// A copy with one setting changed from text, by HF name in snake_case or kebab-case
    /// ("learning_rate" / "learning-rate"): how the CLI's --flags map onto the arguments.
    /// </summary>
    public TrainingArguments With(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.TrimStart('-').Replace('-', '_');
        var field = Fields.FirstOrDefault(f => f.Name == key)
            ?? throw new ArgumentException($"Unknown training argument '{name}'; known: {string.Join(", ", Names)}.");
        return field.Set(this, value);
    }

    /// <summary>The snake_case names of every supported setting, in HF's order.</summary>
    public static IReadOnlyList<string> Names => Fields.Select(f => f.Name).ToList();

    /// <summary>The value of a setting by HF name, as it appears in the JSON (derived values included).</summary>
    public object? Get(string name)
    {
        string key = name.TrimStart('-').Replace('-', '_');
        var field = Fields.FirstOrDefault(f => f.Name == key) ?? throw new ArgumentException($"Unknown training argument '{name}'.");
        return field.Get(this);
    }

    private sealed record Field(string Name, Func<TrainingArguments, object?> Get, Func<TrainingArguments, string?, TrainingArguments> Set);

    private static readonly Field[] Fields =
    [
        new("output_dir", a => a.OutputDir, (a, v) => a with { OutputDir = Required(v, "output_dir") }),
        new("overwrite_output_dir", a => a.OverwriteOutputDir, (a, v) => a with { OverwriteOutputDir = Bool(v, "overwrite_output_dir") }),
        new("do_train", a => a.DoTrain, (a, v) => a with { DoTrain = Bool(v, "do_train") }),
        new("do_eval", a => a.DoEval, (a, v) => a with { DoEval = Bool(v, "do_eval") }),
        new("do_predict", a => a.DoPredict, (a, v) => a with { DoPredict = Bool(v, "do_predict") }),
        new("eval_strategy", a => a.EvalStrategy.ToHuggingFaceName(), (a, v) => a with { EvalStrategy = Strategy(v, "eval_strategy") }),
        new("prediction_loss_only", a => a.PredictionLossOnly, (a, v) => a with { PredictionLossOnly = Bool(v, "prediction_loss_only") }),
        new("per_device_train_batch_size", a => a.PerDeviceTrainBatchSize, (a, v) => a with { PerDeviceTrainBatchSize = Int(v, "per_device_train_batch_size") }),
        new("per_device_eval_batch_size", a => a.PerDeviceEvalBatchSize, (a, v) => a with { PerDeviceEvalBatchSize = Int(v, "per_device_eval_batch_size") }),
        new("gradient_accumulation_steps", a => a.GradientAccumulationSteps, (a, v) => a with { GradientAccumulationSteps = Int(v, "gradient_accumulation_steps") }),
        new("eval_delay", a => a.EvalDelay, (a, v) => a with { EvalDelay = Double(v, "eval_delay") }),
        new("learning_rate", a => a.LearningRate, (a, v) => a with { LearningRate = Double(v, "learning_rate") }),
        new("weight_decay", a => a.WeightDecay, (a, v) => a with { WeightDecay = Double(v, "weight_decay") }),
        new("adam_beta1", a => a.AdamBeta1, (a, v) => a with { AdamBeta1 = Double(v, "adam_beta1") }),
        new("adam_beta2", a => a.AdamBeta2, (a, v) => a with { AdamBeta2 = Double(v, "adam_beta2") }),
        new("adam_epsilon", a => a.AdamEpsilon, (a, v) => a with { AdamEpsilon = Double(v, "adam_epsilon") }),
        new("max_grad_norm", a => a.MaxGradNorm, (a, v) => a with { MaxGradNorm = Double(v, "max_grad_norm") }),
        new("num_train_epochs", a => a.NumTrainEpochs, (a, v) => a with { NumTrainEpochs = Double(v, "num_train_epochs") }),
        new("max_steps", a => a.MaxSteps, (a, v) => a with { MaxSteps = Int(v, "max_steps") }),
        new("lr_scheduler_type", a => a.LrSchedulerType.ToHuggingFaceName(), (a, v) => a with { LrSchedulerType = Schedules.Parse(Required(v, "lr_scheduler_type")) }),
        new("lr_scheduler_kwargs", a => a.LrSchedulerKwargs.ToDictionary(p => p.Key, p => (object?)p.Value), (a, v) => a with { LrSchedulerKwargs = Kwargs(v) }),
        new("warmup_ratio", a => a.WarmupRatio, (a, v) => a with { WarmupRatio = Double(v, "warmup_ratio") }),
        new("warmup_steps", a => a.WarmupSteps, (a, v) => a with { WarmupSteps = Int(v, "warmup_steps") }),
        new("logging_strategy", a => a.LoggingStrategy.ToHuggingFaceName(), (a, v) => a with { LoggingStrategy = Strategy(v, "logging_strategy") }),
        new("logging_first_step", a => a.LoggingFirstStep, (a, v) => a with { LoggingFirstStep = Bool(v, "logging_first_step") }),
        new("logging_steps", a => StepsValue(a.LoggingSteps), (a, v) => a with { LoggingSteps = Double(v, "logging_steps") }),
        new("logging_nan_inf_filter", a => a.LoggingNanInfFilter, (a, v) => a with { LoggingNanInfFilter = Bool(v, "logging_nan_inf_filter") }),
        new("save_strategy", a => a.SaveStrategy.ToHuggingFaceName(), (a, v) => a with { SaveStrategy = Strategy(v, "save_strategy") }),
        new("save_steps", a => StepsValue(a.SaveSteps), (a, v) => a with { SaveSteps = Double(v, "save_steps") }),
        new("save_total_limit", a => a.SaveTotalLimit, (a, v) => a with { SaveTotalLimit = NullableInt(v, "save_total_limit") }),
        new("save_safetensors", a => a.SaveSafetensors, (a, v) => a with { SaveSafetensors = Bool(v, "save_safetensors") }),
        new("save_only_model", a => a.SaveOnlyModel, (a, v) => a with { SaveOnlyModel = Bool(v, "save_only_model") }),
        new("seed", a => a.Seed, (a, v) => a with { Seed = Int(v, "seed") }),
        new("data_seed", a => a.DataSeed, (a, v) => a with { DataSeed = NullableInt(v, "data_seed") }),
        new("dataloader_drop_last", a => a.DataloaderDropLast, (a, v) => a with { DataloaderDropLast = Bool(v, "dataloader_drop_last") }),
        new("eval_steps", a => a.EvalSteps is double e ? StepsValue(e) : null, (a, v) => a with { EvalSteps = NullableDouble(v, "eval_steps") }),
        new("run_name", a => a.RunName, (a, v) => a with { RunName = v }),
        new("disable_tqdm", a => a.DisableTqdm, (a, v) => a with { DisableTqdm = Bool(v, "disable_tqdm") }),
        new("load_best_model_at_end", a => a.LoadBestModelAtEnd, (a, v) => a with { LoadBestModelAtEnd = Bool(v, "load_best_model_at_end") }),
        new("metric_for_best_model", a => a.MetricForBestModel, (a, v) => a with { MetricForBestModel = v }),
        new("greater_is_better", a => a.GreaterIsBetter, (a, v) => a with { GreaterIsBetter = v is null || IsNone(v) ? null : Bool(v, "greater_is_better") }),
        new("ignore_data_skip", a => a.IgnoreDataSkip, (a, v) => a with { IgnoreDataSkip = Bool(v, "ignore_data_skip") }),
        new("optim", a => a.Optim, (a, v) => a with { Optim = Required(v, "optim") }),
        new("group_by_length", a => a.GroupByLength, (a, v) => a with { GroupByLength = Bool(v, "group_by_length") }),
        new("length_column_name", a => a.LengthColumnName, (a, v) => a with { LengthColumnName = Required(v, "length_column_name") }),
        new("resume_from_checkpoint", a => a.ResumeFromCheckpoint, (a, v) => a with { ResumeFromCheckpoint = v is null || IsNone(v) ? null : v }),
        new("include_num_input_tokens_seen", a => a.IncludeNumInputTokensSeen, (a, v) => a with { IncludeNumInputTokensSeen = Bool(v, "include_num_input_tokens_seen") }),
    ];

    private static object StepsValue(double value) => value == Math.Floor(value) && Math.Abs(value) < int.MaxValue ? (object)(int)value : value;

    private static bool IsNone(string v) => v is "None" or "none" or "null";

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw new ArgumentException($"{name} needs a value.") : value;

    private static bool Bool(string? value, string name) => value?.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "y" or "on" => true,
        "false" or "0" or "no" or "n" or "off" => false,
        _ => throw new ArgumentException($"{name}: '{value}' is not true or false."),
    };

    private static int Int(string? value, string name) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int result)
            ? result
            : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue
                ? (int)d
                : throw new ArgumentException($"{name}: '{value}' is not a whole number.");

    private static int? NullableInt(string? value, string name) => value is null || IsNone(value) ? null : Int(value, name);

    private static double Double(string? value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double result) && !double.IsNaN(result)
            ? result
            : throw new ArgumentException($"{name}: '{value}' is not a number.");

    private static double? NullableDouble(string? value, string name) => value is null || IsNone(value) ? null : Double(value, name);

    private static IntervalStrategy Strategy(string? value, string name) => value?.Trim().ToLowerInvariant() switch
    {
        "no" => IntervalStrategy.No,
        "steps" => IntervalStrategy.Steps,
        "epoch" => IntervalStrategy.Epoch,
        _ => throw new ArgumentException($"{name}: '{value}' is not one of no, steps, epoch."),
    };

    /// <summary>lr_scheduler_kwargs as a JSON object ({"num_cycles": 2}) or key=value pairs ("num_cycles=2,power=2").</summary>
    private static IReadOnlyDictionary<string, double> Kwargs(string? value)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(value) || IsNone(value)) return result;
        string text = value.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    result[property.Name] = property.Value.ValueKind == JsonValueKind.Number
                        ? property.Value.GetDouble()
                        : throw new ArgumentException($"lr_scheduler_kwargs: '{property.Name}' must be a number.");
                }
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"lr_scheduler_kwargs: invalid JSON ({e.Message}).", e);
            }
            return result;
        }
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0) throw new ArgumentException($"lr_scheduler_kwargs: '{pair}' is not key=value.");
            result[pair[..equals].Trim()] = Double(pair[(equals + 1)..].Trim(), $"lr_scheduler_kwargs.{pair[..equals].Trim()}");
        }
        return result;
    }

    private static string Show(double value) => PythonJson.FormatFloat(value);

    private static string ShowSteps(double value) => StepsValue(value) is int i ? i.ToString(CultureInfo.InvariantCulture) : Show(value);
}

/// <summary>HF spellings of the strategy enum.</summary>
public static class IntervalStrategyNames
{
    public static string ToHuggingFaceName(this IntervalStrategy strategy) => strategy switch
    {
        IntervalStrategy.No => "no",
        IntervalStrategy.Steps => "steps",
        IntervalStrategy.Epoch => "epoch",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null),
    };
}
