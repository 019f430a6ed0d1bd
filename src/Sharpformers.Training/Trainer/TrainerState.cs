using System.Globalization;
using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// HF's <c>TrainerState</c>: where training is (global_step, epoch), what it logged (log_history:
/// one dictionary per log call with HF's keys — loss, grad_norm, learning_rate, epoch, step,
/// eval_loss, eval_accuracy, eval_runtime, eval_samples_per_second, train_runtime, train_loss, …)
/// and the best checkpoint so far. Saved as <c>trainer_state.json</c> in HF's exact layout
/// (json.dumps(asdict(state), indent=2, sort_keys=True) + "\n", the fields of transformers 4.38),
/// which Python's <c>TrainerState.load_from_json</c> reads back.
/// </summary>
public sealed class TrainerState
{
    public const string FileName = "trainer_state.json";

    /// <summary>Fractional epoch (epoch + fraction of the current one); null before training.</summary>
    public double? Epoch { get; set; }

    /// <summary>Optimizer steps completed.</summary>
    public int GlobalStep { get; set; }

    public int MaxSteps { get; set; }

    public int LoggingSteps { get; set; } = 500;

    public int EvalSteps { get; set; } = 500;

    public int SaveSteps { get; set; } = 500;

    public int? TrainBatchSize { get; set; }

    public int NumTrainEpochs { get; set; }

    public long NumInputTokensSeen { get; set; }

    public double TotalFlos { get; set; }

    /// <summary>Each entry: key → double or int (int for "step" and other integral counters).</summary>
    public List<Dictionary<string, object>> LogHistory { get; set; } = [];

    public double? BestMetric { get; set; }

    public string? BestModelCheckpoint { get; set; }

    public bool IsLocalProcessZero { get; set; } = true;

    public bool IsWorldProcessZero { get; set; } = true;

    public bool IsHyperParamSearch { get; set; }

    public string? TrialName { get; set; }

    public Dictionary<string, object>? TrialParams { get; set; }

    /// <summary>HF's save_to_json text.</summary>
    public string ToJson()
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["epoch"] = Epoch,
            ["global_step"] = GlobalStep,
            ["max_steps"] = MaxSteps,
            ["logging_steps"] = LoggingSteps,
            ["eval_steps"] = EvalSteps,
            ["save_steps"] = SaveSteps,
            ["train_batch_size"] = TrainBatchSize,
            ["num_train_epochs"] = NumTrainEpochs,
            ["num_input_tokens_seen"] = NumInputTokensSeen,
            ["total_flos"] = TotalFlos,
            ["log_history"] = LogHistory,
            ["best_metric"] = BestMetric,
            ["best_model_checkpoint"] = BestModelCheckpoint,
            ["is_local_process_zero"] = IsLocalProcessZero,
            ["is_world_process_zero"] = IsWorldProcessZero,
            ["is_hyper_param_search"] = IsHyperParamSearch,
            ["trial_name"] = TrialName,
            ["trial_params"] = TrialParams,
        };
        return PythonJson.Serialize(fields, indent: 2, sortKeys: true) + "\n";
    }

    /// <summary>Writes trainer_state.json atomically.</summary>
    public void SaveToJson(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>
    /// Reads a trainer_state.json (ours or one written by Python transformers; fields of later
    /// versions such as stateful_callbacks are accepted and ignored).
    /// </summary>
    public static TrainerState LoadFromJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Trainer state not found: {path}", path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(PythonJson.ToStrictJson(File.ReadAllText(path)));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");
            try
            {
                var state = new TrainerState
                {
                    Epoch = NullableDouble(root, "epoch"),
                    GlobalStep = Int(root, "global_step", 0),
                    MaxSteps = Int(root, "max_steps", 0),
                    LoggingSteps = Int(root, "logging_steps", 500),
                    EvalSteps = Int(root, "eval_steps", 500),
                    SaveSteps = Int(root, "save_steps", 500),
                    TrainBatchSize = root.TryGetProperty("train_batch_size", out var tbs) && tbs.ValueKind == JsonValueKind.Number ? tbs.GetInt32() : null,
                    NumTrainEpochs = Int(root, "num_train_epochs", 0),
                    NumInputTokensSeen = root.TryGetProperty("num_input_tokens_seen", out var tokens) && tokens.ValueKind == JsonValueKind.Number ? tokens.GetInt64() : 0,
                    TotalFlos = NullableDouble(root, "total_flos") ?? 0,
                    BestMetric = NullableDouble(root, "best_metric"),
                    BestModelCheckpoint = root.TryGetProperty("best_model_checkpoint", out var best) && best.ValueKind == JsonValueKind.String ? best.GetString() : null,
                    IsLocalProcessZero = Bool(root, "is_local_process_zero", true),
                    IsWorldProcessZero = Bool(root, "is_world_process_zero", true),
                    IsHyperParamSearch = Bool(root, "is_hyper_param_search", false),
                    TrialName = root.TryGetProperty("trial_name", out var trial) && trial.ValueKind == JsonValueKind.String ? trial.GetString() : null,
                };
                if (root.TryGetProperty("log_history", out var history) && history.ValueKind == JsonValueKind.Array)
                {
                    foreach (var entry in history.EnumerateArray())
                    {
                        state.LogHistory.Add(ReadEntry(entry));
                    }
                }
                if (root.TryGetProperty("trial_params", out var trialParams) && trialParams.ValueKind == JsonValueKind.Object)
                {
                    state.TrialParams = ReadEntry(trialParams);
                }
                return state;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}: not a trainer state ({e.Message}).", e);
            }
        }
    }

    /// <summary>The log entries that hold <paramref name="key"/> (e.g. every "loss" or "eval_accuracy"), in order.</summary>
    public IEnumerable<(int Step, double Value)> History(string key) =>
        LogHistory.Where(e => e.ContainsKey(key)).Select(e => (Convert.ToInt32(e["step"], CultureInfo.InvariantCulture), Convert.ToDouble(e[key], CultureInfo.InvariantCulture)));

    private static Dictionary<string, object> ReadEntry(JsonElement entry)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var property in entry.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind switch
            {
                // Python writes ints without a point or exponent; keep them ints so a rewrite is identical.
                JsonValueKind.Number when IsIntegerLiteral(property.Value.GetRawText()) => property.Value.TryGetInt32(out int i) ? (object)i : property.Value.GetInt64(),
                JsonValueKind.Number => property.Value.GetDouble(),
                JsonValueKind.String => PythonJson.SpecialFloat(property.Value.GetString()!) is double special ? special : property.Value.GetString()!,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => property.Value.GetRawText(),
            };
        }
        return result;
    }

    private static bool IsIntegerLiteral(string raw) => !raw.Contains('.') && !raw.Contains('e') && !raw.Contains('E');

    private static double? NullableDouble(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.Number ? value.GetDouble()
        : value.ValueKind == JsonValueKind.String ? PythonJson.SpecialFloat(value.GetString()!)
        : null;

    private static int Int(JsonElement root, string name, int fallback) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? (int)value.GetDouble() : fallback;

    private static bool Bool(JsonElement root, string name, bool fallback) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;
}

/// <summary>
/// HF's <c>TrainerControl</c>: the switches callbacks flip to steer the loop. The step switches
/// are reset at each step begin, should_epoch_stop at each epoch begin, should_training_stop at
/// train begin.
/// </summary>
public sealed class TrainerControl
{
    public bool ShouldTrainingStop { get; set; }

    public bool ShouldEpochStop { get; set; }

    public bool ShouldSave { get; set; }

    public bool ShouldEvaluate { get; set; }

    public bool ShouldLog { get; set; }

    internal void NewTraining() => ShouldTrainingStop = false;

    internal void NewEpoch() => ShouldEpochStop = false;

    internal void NewStep()
    {
        ShouldSave = false;
        ShouldEvaluate = false;
        ShouldLog = false;
    }

    public override string ToString() =>
        $"TrainerControl(should_training_stop={ShouldTrainingStop}, should_epoch_stop={ShouldEpochStop}, should_save={ShouldSave}, should_evaluate={ShouldEvaluate}, should_log={ShouldLog})";
}
