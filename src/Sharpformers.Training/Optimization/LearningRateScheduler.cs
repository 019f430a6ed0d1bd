using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Nn.Optim;
using Sharpformers.Utils;

namespace Sharpformers.Training.Optimization;

/// <summary>HF's <c>SchedulerType</c> (the lr_scheduler_type argument).</summary>
public enum SchedulerType
{
    Linear,
    Cosine,
    CosineWithRestarts,
    Polynomial,
    Constant,
    ConstantWithWarmup,
    InverseSqrt,
    CosineWithMinLr,
}

/// <summary>
/// torch's <c>LambdaLR</c> with HF's schedule functions: every group's lr is
/// <c>initial_lr × λ(step)</c>, where step counts <see cref="Step"/> calls (torch's last_epoch). It is
/// created at step 0, so the first optimizer step uses λ(0) (0 during warmup), as in HF's Trainer.
/// The state is the step count, saved as scheduler.json.
/// </summary>
public sealed class LearningRateScheduler
{
    private readonly AdamW optimizer;
    private readonly Func<int, double> lambda;

    /// <param name="lambda">λ(step), the multiplier of the initial learning rate.</param>
    /// <param name="name">What the schedule is (for scheduler.json and messages).</param>
    public LearningRateScheduler(AdamW optimizer, Func<int, double> lambda, string name, IReadOnlyDictionary<string, double>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(lambda);
        this.optimizer = optimizer;
        this.lambda = lambda;
        Name = name;
        Parameters = parameters ?? new Dictionary<string, double>();
        BaseLearningRates = optimizer.ParamGroups.Select(g => g.InitialLearningRate).ToArray();
        LastEpoch = 0;
        Apply();
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, double> Parameters { get; }

    /// <summary>Each group's initial lr (torch's base_lrs).</summary>
    public IReadOnlyList<double> BaseLearningRates { get; }

    /// <summary>Steps taken (torch's last_epoch); the current lrs are λ(LastEpoch) × base.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rates last set (torch's get_last_lr()).</summary>
    public IReadOnlyList<double> LastLearningRates => optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>The multiplier λ(step), for tests and plots.</summary>
    public double Lambda(int step) => lambda(step);

    /// <summary>Advances one step and sets the new learning rates.</summary>
    public void Step()
    {
        LastEpoch++;
        Apply();
    }

    public const string FileName = "scheduler.json";

    /// <summary>Writes scheduler.json: the schedule's name, parameters, base lrs and step count.</summary>
    public void Save(string directory)
    {
        var json = new JsonObject
        {
            ["name"] = Name,
            ["last_epoch"] = LastEpoch,
            ["base_lrs"] = new JsonArray(BaseLearningRates.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["last_lr"] = new JsonArray(LastLearningRates.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["parameters"] = new JsonObject(Parameters.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, JsonValue.Create(p.Value)))),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Restores the step count saved by <see cref="Save"/> and re-applies the learning rates; the schedule must be the same.</summary>
    public void Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"Scheduler state not found: {path}", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty.");
            string name = root["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: missing \"name\".");
            if (name != Name)
            {
                throw new InvalidDataException($"{path}: saved for a '{name}' schedule, but this run uses '{Name}'.");
            }
            LastEpoch = root["last_epoch"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: missing \"last_epoch\".");
            Apply();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a scheduler state ({e.Message}).", e);
        }
    }

    private void Apply()
    {
        double factor = lambda(LastEpoch);
        for (int g = 0; g < optimizer.ParamGroups.Count; g++)
        {
            optimizer.ParamGroups[g].LearningRate = BaseLearningRates[g] * factor;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}(last_epoch={LastEpoch}, lr={string.Join(", ", LastLearningRates)})");
}

/// <summary>
/// HF's schedule functions (transformers/optimization.py), formula for formula, and
/// <see cref="GetScheduler"/> (HF's get_scheduler).
/// </summary>
public static class Schedules
{
    /// <summary>The snake_case name HF uses ("linear", "cosine_with_restarts", …).</summary>
    public static string ToHuggingFaceName(this SchedulerType type) => type switch
    {
        SchedulerType.Linear => "linear",
        SchedulerType.Cosine => "cosine",
        SchedulerType.CosineWithRestarts => "cosine_with_restarts",
        SchedulerType.Polynomial => "polynomial",
        SchedulerType.Constant => "constant",
        SchedulerType.ConstantWithWarmup => "constant_with_warmup",
        SchedulerType.InverseSqrt => "inverse_sqrt",
        SchedulerType.CosineWithMinLr => "cosine_with_min_lr",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Parses HF's name (also accepts the .NET name, case-insensitively, and dashes).</summary>
    public static SchedulerType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string normalized = name.Trim().Replace("-", "_", StringComparison.Ordinal).ToLowerInvariant();
        foreach (var type in Enum.GetValues<SchedulerType>())
        {
            if (type.ToHuggingFaceName() == normalized || type.ToString().Equals(name.Trim(), StringComparison.OrdinalIgnoreCase)) return type;
        }
        if (normalized == "reduce_lr_on_plateau")
        {
            throw new NotSupportedException("lr_scheduler_type 'reduce_lr_on_plateau' is not supported by Sharpformers; use linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup, inverse_sqrt or cosine_with_min_lr.");
        }
        throw new ArgumentException(
            $"Unknown lr_scheduler_type '{name}'; expected one of {string.Join(", ", Enum.GetValues<SchedulerType>().Select(t => t.ToHuggingFaceName()))}.", nameof(name));
    }

    public static double ConstantLambda(int step) => 1.0;

    public static double ConstantWithWarmupLambda(int step, int numWarmupSteps) =>
        step < numWarmupSteps ? (double)step / Math.Max(1.0, numWarmupSteps) : 1.0;

    public static double LinearLambda(int step, int numWarmupSteps, int numTrainingSteps)
    {
        if (step < numWarmupSteps) return (double)step / Math.Max(1, numWarmupSteps);
        return Math.Max(0.0, (double)(numTrainingSteps - step) / Math.Max(1, numTrainingSteps - numWarmupSteps));
    }

    public static double CosineLambda(int step, int numWarmupSteps, int numTrainingSteps, double numCycles = 0.5, double minLrRate = 0.0)
    {
        if (step < numWarmupSteps) return (double)step / Math.Max(1, numWarmupSteps);
        double progress = (double)(step - numWarmupSteps) / Math.Max(1, numTrainingSteps - numWarmupSteps);
        double factor = 0.5 * (1.0 + Math.Cos(Math.PI * numCycles * 2.0 * progress));
        if (minLrRate != 0) factor = factor * (1 - minLrRate) + minLrRate;
        return Math.Max(0.0, factor);
    }

    public static double CosineWithHardRestartsLambda(int step, int numWarmupSteps, int numTrainingSteps, int numCycles = 1)
    {
        if (step < numWarmupSteps) return (double)step / Math.Max(1, numWarmupSteps);
        double progress = (double)(step - numWarmupSteps) / Math.Max(1, numTrainingSteps - numWarmupSteps);
        if (progress >= 1.0) return 0.0;
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (numCycles * progress % 1.0))));
    }

    public static double PolynomialDecayLambda(int step, int numWarmupSteps, int numTrainingSteps, double lrInit, double lrEnd = 1e-7, double power = 1.0)
    {
        if (step < numWarmupSteps) return (double)step / Math.Max(1, numWarmupSteps);
        if (step > numTrainingSteps) return lrEnd / lrInit;
        double lrRange = lrInit - lrEnd;
        int decaySteps = numTrainingSteps - numWarmupSteps;
        double pctRemaining = 1 - (double)(step - numWarmupSteps) / decaySteps;
        double decay = lrRange * Math.Pow(pctRemaining, power) + lrEnd;
        return decay / lrInit;
    }

    public static double InverseSqrtLambda(int step, int numWarmupSteps, int timescale)
    {
        if (step < numWarmupSteps) return (double)step / Math.Max(1, numWarmupSteps);
        int shift = timescale - numWarmupSteps;
        return 1.0 / Math.Sqrt((double)(step + shift) / timescale);
    }

    /// <summary>
    /// HF's <c>get_scheduler(name, optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs)</c>.
    /// Extra parameters: num_cycles (cosine 0.5, restarts 1), lr_end (1e-7) and power (1.0) for
    /// polynomial, timescale for inverse_sqrt, min_lr or min_lr_rate for cosine_with_min_lr.
    /// </summary>
    public static LearningRateScheduler GetScheduler(SchedulerType type, AdamW optimizer, int? numWarmupSteps = null, int? numTrainingSteps = null,
        IReadOnlyDictionary<string, double>? schedulerSpecificParameters = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var extra = schedulerSpecificParameters ?? new Dictionary<string, double>();
        string name = type.ToHuggingFaceName();
        CheckKnownParameters(type, extra);
        if (type == SchedulerType.Constant)
        {
            return new LearningRateScheduler(optimizer, ConstantLambda, name, extra);
        }
        int warmup = numWarmupSteps ?? throw new ArgumentException($"{name} requires numWarmupSteps, please provide that argument.", nameof(numWarmupSteps));
        if (warmup < 0) throw new ArgumentOutOfRangeException(nameof(numWarmupSteps), warmup, "numWarmupSteps must not be negative.");
        var recorded = new Dictionary<string, double>(extra) { ["num_warmup_steps"] = warmup };
        if (type == SchedulerType.ConstantWithWarmup)
        {
            return new LearningRateScheduler(optimizer, s => ConstantWithWarmupLambda(s, warmup), name, recorded);
        }
        if (type == SchedulerType.InverseSqrt)
        {
            int timescale = extra.TryGetValue("timescale", out var t) ? (int)t : (warmup != 0 ? warmup : 10_000);
            recorded["timescale"] = timescale;
            return new LearningRateScheduler(optimizer, s => InverseSqrtLambda(s, warmup, timescale), name, recorded);
        }
        int total = numTrainingSteps ?? throw new ArgumentException($"{name} requires numTrainingSteps, please provide that argument.", nameof(numTrainingSteps));
        recorded["num_training_steps"] = total;
        switch (type)
        {
            case SchedulerType.Linear:
                return new LearningRateScheduler(optimizer, s => LinearLambda(s, warmup, total), name, recorded);
            case SchedulerType.Cosine:
            {
                double cycles = extra.GetValueOrDefault("num_cycles", 0.5);
                return new LearningRateScheduler(optimizer, s => CosineLambda(s, warmup, total, cycles), name, recorded);
            }
            case SchedulerType.CosineWithRestarts:
            {
                int cycles = (int)extra.GetValueOrDefault("num_cycles", 1);
                return new LearningRateScheduler(optimizer, s => CosineWithHardRestartsLambda(s, warmup, total, cycles), name, recorded);
            }
            case SchedulerType.Polynomial:
            {
                double lrInit = optimizer.ParamGroups.Count > 0 ? optimizer.ParamGroups[0].InitialLearningRate : 0;
                double lrEnd = extra.GetValueOrDefault("lr_end", 1e-7);
                double power = extra.GetValueOrDefault("power", 1.0);
                if (!(lrInit > lrEnd))
                {
                    throw new ArgumentException($"lr_end ({PythonJson.FormatFloat(lrEnd)}) must be smaller than initial lr ({PythonJson.FormatFloat(lrInit)})");
                }
                return new LearningRateScheduler(optimizer, s => PolynomialDecayLambda(s, warmup, total, lrInit, lrEnd, power), name, recorded);
            }
            case SchedulerType.CosineWithMinLr:
            {
                double cycles = extra.GetValueOrDefault("num_cycles", 0.5);
                bool hasMin = extra.TryGetValue("min_lr", out double minLr);
                bool hasRate = extra.TryGetValue("min_lr_rate", out double minLrRate);
                if (hasMin && hasRate) throw new ArgumentException("Only one of min_lr or min_lr_rate should be set");
                if (hasMin) minLrRate = minLr / optimizer.ParamGroups[0].InitialLearningRate;
                else if (!hasRate) throw new ArgumentException("One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`");
                return new LearningRateScheduler(optimizer, s => CosineLambda(s, warmup, total, cycles, minLrRate), name, recorded);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    private static void CheckKnownParameters(SchedulerType type, IReadOnlyDictionary<string, double> extra)
    {
        string[] known = type switch
        {
            SchedulerType.Cosine or SchedulerType.CosineWithRestarts => ["num_cycles"],
            SchedulerType.Polynomial => ["lr_end", "power"],
            SchedulerType.InverseSqrt => ["timescale"],
            SchedulerType.CosineWithMinLr => ["num_cycles", "min_lr", "min_lr_rate"],
            _ => [],
        };
        foreach (var key in extra.Keys)
        {
            if (!known.Contains(key))
            {
                throw new ArgumentException(
                    $"lr_scheduler_kwargs: '{key}' is not a parameter of the {type.ToHuggingFaceName()} schedule{(known.Length > 0 ? $" (it takes {string.Join(", ", known)})" : " (it takes none)")}.");
            }
        }
    }
}
