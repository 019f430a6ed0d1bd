using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sharpformers.Nn.Optim;
using Sharpformers.Training.Optimization;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>
/// Where the data loader was when a checkpoint was written: the epoch (0-based), the batches of
/// that epoch already consumed, the optimizer step, and the batches an epoch has. HF derives the
/// position from global_step alone; we record it to check that a resumed run lines up.
/// </summary>
public sealed record DataPosition(int Epoch, int BatchesSeenInEpoch, int GlobalStep, int BatchesPerEpoch);

/// <summary>
/// The random state of a run (our counterpart of HF's rng_state.pth): named generator states
/// (e.g. "dropout") and the data position. Samplers need no state: their order is a function of
/// (seed, epoch).
/// </summary>
public sealed record TrainerRngState(IReadOnlyDictionary<string, SeededRandomState> Generators, DataPosition Position)
{
    public const string FileName = "rng_state.json";

    public void Save(string directory)
    {
        var json = new JsonObject
        {
            ["format"] = "sharpformers-rng-1",
            ["generators"] = new JsonObject(Generators.Select(g => new KeyValuePair<string, JsonNode?>(g.Key, new JsonObject
            {
                // ulong words as decimal strings: JSON numbers above 2^53 do not survive every reader.
                ["words"] = new JsonArray(g.Value.Words.Select(w => (JsonNode)JsonValue.Create(w.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray()),
                ["spare_normal"] = g.Value.SpareNormal is double spare ? JsonValue.Create(spare) : null,
            }))),
            ["data_position"] = new JsonObject
            {
                ["epoch"] = Position.Epoch,
                ["batches_seen_in_epoch"] = Position.BatchesSeenInEpoch,
                ["global_step"] = Position.GlobalStep,
                ["batches_per_epoch"] = Position.BatchesPerEpoch,
            },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static TrainerRngState Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"Random state not found: {path}", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty.");
            var generators = new Dictionary<string, SeededRandomState>(StringComparer.Ordinal);
            foreach (var (name, node) in root["generators"]?.AsObject() ?? throw new InvalidDataException($"{path}: missing \"generators\"."))
            {
                var words = node?["words"]?.AsArray().Select(w => ulong.Parse(w?.GetValue<string>() ?? "", System.Globalization.CultureInfo.InvariantCulture)).ToArray()
                    ?? throw new InvalidDataException($"{path}: generator '{name}' has no words.");
                double? spare = node?["spare_normal"] is JsonValue v ? v.GetValue<double>() : null;
                generators[name] = new SeededRandomState(words, spare);
            }
            var position = root["data_position"] ?? throw new InvalidDataException($"{path}: missing \"data_position\".");
            return new TrainerRngState(generators, new DataPosition(Int("epoch"), Int("batches_seen_in_epoch"), Int("global_step"), Int("batches_per_epoch")));

            int Int(string name) => position[name]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: data_position lacks \"{name}\".");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: not a Sharpformers random state ({e.Message}).", e);
        }
    }
}

/// <summary>
/// The checkpoint-N/ folders of an output dir, as HF's Trainer manages them: written atomically
/// (a reader or a crash never sees half a checkpoint), rotated by save_total_limit without ever
/// deleting the best one (HF's _sorted_checkpoints rule), and found again for resume.
/// A checkpoint holds the model files (written by the model layer's callback: config.json,
/// model.safetensors), <see cref="AdamW.JsonFileName"/> + <see cref="AdamW.TensorsFileName"/>,
/// <see cref="LearningRateScheduler.FileName"/>, <see cref="TrainerRngState.FileName"/>,
/// trainer_state.json and training_args.json (HF writes training_args.bin, a torch pickle, which
/// we cannot; the JSON holds the same settings in HF's to_json_string layout).
/// </summary>
public static partial class Checkpoints
{
    public const string Prefix = "checkpoint";

    public const string TrainingArgumentsFileName = "training_args.json";

    /// <summary>"checkpoint-{step}".</summary>
    public static string FolderName(int globalStep) => $"{Prefix}-{globalStep}";

    /// <summary>HF's key for metric_for_best_model: "eval_" prefixed unless already.</summary>
    public static string MetricKey(string metricForBestModel) =>
        metricForBestModel.StartsWith("eval_", StringComparison.Ordinal) ? metricForBestModel : $"eval_{metricForBestModel}";

    /// <summary>
    /// HF's get_last_checkpoint: the sub-folder named checkpoint-N with the largest N, or null.
    /// </summary>
    public static string? GetLastCheckpoint(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        return Directory.EnumerateDirectories(folder)
            .Select(d => (Path: d, Step: StepOf(Path.GetFileName(d))))
            .Where(c => c.Step is not null)
            .OrderByDescending(c => c.Step)
            .Select(c => c.Path)
            .FirstOrDefault();
    }

    /// <summary>The step of a folder named exactly checkpoint-N, else null.</summary>
    public static int? StepOf(string folderName)
    {
        var match = CheckpointName().Match(folderName);
        return match.Success && int.TryParse(match.Groups[1].Value, out int step) ? step : null;
    }

    /// <summary>
    /// HF's _sorted_checkpoints: checkpoint folders by step, oldest first, with the best checkpoint
    /// moved to the second-to-last place so rotation keeps it along with the latest.
    /// </summary>
    public static IReadOnlyList<string> SortedCheckpoints(string outputDir, string? bestModelCheckpoint)
    {
        if (!Directory.Exists(outputDir)) return [];
        var sorted = Directory.EnumerateDirectories(outputDir)
            .Where(d => Path.GetFileName(d).StartsWith(Prefix + "-", StringComparison.Ordinal))
            .Select(d => (Path: d, Step: StepOf(Path.GetFileName(d))))
            .Where(c => c.Step is not null)
            .OrderBy(c => c.Step)
            .Select(c => c.Path)
            .ToList();
        if (bestModelCheckpoint is not null)
        {
            int best = sorted.FindIndex(c => SamePath(c, bestModelCheckpoint));
            if (best >= 0)
            {
                for (int i = best; i < sorted.Count - 2; i++) (sorted[i], sorted[i + 1]) = (sorted[i + 1], sorted[i]);
            }
        }
        return sorted;
    }

    /// <summary>
    /// HF's _rotate_checkpoints: deletes the oldest checkpoints beyond save_total_limit (null or ≤ 0:
    /// keep all). The best checkpoint survives; with a limit of 1 and a best that is not the latest,
    /// two are kept so the run stays resumable. Returns the deleted folders.
    /// </summary>
    public static IReadOnlyList<string> RotateCheckpoints(string outputDir, int? saveTotalLimit, string? bestModelCheckpoint)
    {
        if (saveTotalLimit is not int limit || limit <= 0) return [];
        var sorted = SortedCheckpoints(outputDir, bestModelCheckpoint);
        if (sorted.Count <= limit) return [];
        if (bestModelCheckpoint is not null && limit == 1 && !SamePath(sorted[^1], bestModelCheckpoint)) limit = 2;
        var deleted = sorted.Take(Math.Max(0, sorted.Count - limit)).ToList();
        foreach (var folder in deleted) DeleteQuietly(folder);
        return deleted;
    }

    /// <summary>
    /// What HF does at the end of training with save_total_limit=1 and a best checkpoint: deletes
    /// every other checkpoint. Returns the deleted folders.
    /// </summary>
    public static IReadOnlyList<string> DeleteAllButBest(string outputDir, string bestModelCheckpoint)
    {
        var deleted = SortedCheckpoints(outputDir, bestModelCheckpoint).Where(c => !SamePath(c, bestModelCheckpoint)).ToList();
        foreach (var folder in deleted) DeleteQuietly(folder);
        return deleted;
    }

    /// <summary>
    /// HF's best-model bookkeeping in _save_checkpoint: when the metric improves (or none is known
    /// yet), records it and the checkpoint. Returns whether this checkpoint is now the best.
    /// Throws when metric_for_best_model is missing from the metrics, listing the keys found.
    /// </summary>
    public static bool UpdateBestMetric(TrainerState state, TrainingArguments args, IReadOnlyDictionary<string, double>? metrics, string checkpointPath)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(args);
        if (metrics is null || args.MetricForBestModel is not { } metricName) return false;
        string key = MetricKey(metricName);
        if (!metrics.TryGetValue(key, out double value))
        {
            throw new KeyNotFoundException(
                $"The metric_for_best_model '{metricName}' ({key}) is not among the evaluation metrics [{string.Join(", ", metrics.Keys)}]; " +
                "set metric_for_best_model to one of them or return it from ComputeMetrics.");
        }
        bool greater = args.GreaterIsBetter ?? false;
        if (state.BestMetric is not double best || state.BestModelCheckpoint is null || (greater ? value > best : value < best))
        {
            state.BestMetric = value;
            state.BestModelCheckpoint = checkpointPath;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Writes checkpoint-{global_step} into the output dir atomically, in HF's order: the model
    /// (<paramref name="saveModel"/> receives the folder), then — unless save_only_model — the
    /// optimizer, scheduler and random state; the best-metric bookkeeping from
    /// <paramref name="metrics"/>; trainer_state.json and training_args.json. Then rotates old
    /// checkpoints. Returns the checkpoint path (as output_dir/checkpoint-N, HF's spelling).
    /// </summary>
    public static string Save(TrainingArguments args, TrainerState state, Action<string> saveModel, AdamW? optimizer, LearningRateScheduler? scheduler,
        TrainerRngState? rngState, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(saveModel);
        string path = Path.Combine(args.OutputDir, FolderName(state.GlobalStep));
        if (!args.SaveOnlyModel && (optimizer is null || scheduler is null || rngState is null))
        {
            throw new ArgumentException("A resumable checkpoint needs the optimizer, scheduler and random state (or set save_only_model).");
        }
        UpdateBestMetric(state, args, metrics, path);
        AtomicDirectory.Create(path, folder =>
        {
            saveModel(folder);
            if (!args.SaveOnlyModel)
            {
                optimizer!.Save(folder);
                scheduler!.Save(folder);
                rngState!.Save(folder);
            }
            state.SaveToJson(Path.Combine(folder, TrainerState.FileName));
            AtomicFile.WriteAllText(Path.Combine(folder, TrainingArgumentsFileName), args.ToJson());
        });
        RotateCheckpoints(args.OutputDir, args.SaveTotalLimit, state.BestModelCheckpoint);
        return path;
    }

    /// <summary>
    /// Checks that a folder can be resumed from, naming what is missing: trainer_state.json, the
    /// optimizer, scheduler and random state (absent when it was saved with save_only_model).
    /// </summary>
    public static void EnsureResumable(string checkpoint)
    {
        if (!Directory.Exists(checkpoint)) throw new DirectoryNotFoundException($"Checkpoint folder not found: {checkpoint}");
        string[] required = [TrainerState.FileName, AdamW.JsonFileName, AdamW.TensorsFileName, LearningRateScheduler.FileName, TrainerRngState.FileName];
        var missing = required.Where(f => !File.Exists(Path.Combine(checkpoint, f))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{checkpoint} cannot be resumed: it lacks {string.Join(", ", missing)}" +
                (missing.Contains(TrainerState.FileName) ? " (is it a checkpoint-N folder?)." : " (saved with save_only_model?)."));
        }
    }

    /// <summary>
    /// Resolves resume_from_checkpoint: a checkpoint folder as given, or "last"/"true" for the latest
    /// checkpoint-N in the output dir (HF's resume_from_checkpoint=True).
    /// </summary>
    public static string ResolveResumePath(string resumeFromCheckpoint, string outputDir)
    {
        if (resumeFromCheckpoint is "last" or "true" or "True")
        {
            return GetLastCheckpoint(outputDir)
                ?? throw new DirectoryNotFoundException($"No valid checkpoint found in output directory ({outputDir}).");
        }
        return resumeFromCheckpoint;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);

    private static void DeleteQuietly(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // HF uses shutil.rmtree(ignore_errors=True): a checkpoint that cannot be deleted now is left for later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"^checkpoint\-(\d+)$")]
    private static partial Regex CheckpointName();
}
