using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Kernels;
using Sharpformers.Utils;

namespace Sharpformers.Nn.Optim;

/// <summary>
/// Parameters that share an optimizer setting, as a torch param_group: typically one group with
/// weight decay and one without (biases and LayerNorm weights). <see cref="LearningRate"/> is the
/// current rate, which a scheduler rewrites every step; <see cref="InitialLearningRate"/> is the
/// scheduler's base (torch's initial_lr).
/// </summary>
public sealed class ParameterGroup
{
    public ParameterGroup(IEnumerable<ITrainableParameter> parameters, double? weightDecay = null, double? learningRate = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        WeightDecayOverride = weightDecay;
        LearningRateOverride = learningRate;
    }

    public IReadOnlyList<ITrainableParameter> Parameters { get; }

    public double WeightDecay { get; internal set; }

    public double LearningRate { get; set; }

    public double InitialLearningRate { get; set; }

    internal double? WeightDecayOverride { get; }

    internal double? LearningRateOverride { get; }
}

/// <summary>The saved state of one parameter: step count and the two moment buffers.</summary>
public sealed class AdamWParameterState(long step, float[] expAvg, float[] expAvgSq)
{
    /// <summary>Updates applied so far (torch's state["step"]).</summary>
    public long Step { get; internal set; } = step;

    public float[] ExpAvg { get; } = expAvg;

    public float[] ExpAvgSq { get; } = expAvgSq;
}

/// <summary>
/// torch.optim.AdamW (amsgrad=False, maximize=False, foreach=False): decoupled weight decay
/// (p -= lr·wd·p) before the bias-corrected Adam update, computed by <see cref="AdamWKernels"/> with
/// torch's float32 order of operations. Parameter groups carry their own weight decay and learning
/// rate; state (step, exp_avg, exp_avg_sq per parameter, by name) is created at the first
/// <see cref="Step"/> and saved by <see cref="Save"/> as optimizer.json + optimizer.safetensors.
/// </summary>
public sealed class AdamW
{
    /// <summary>Elements per parallel work item: large enough to amortise scheduling, small enough to balance.</summary>
    private const int ChunkSize = 1 << 15;

    private readonly ParameterGroup[] groups;
    private readonly Dictionary<string, AdamWParameterState> state = new(StringComparer.Ordinal);

    /// <param name="groups">The parameter groups; a group's own weight decay / learning rate overrides the defaults.</param>
    /// <param name="learningRate">Default lr (torch's default 1e-3).</param>
    /// <param name="weightDecay">Default weight decay (torch's AdamW default 1e-2).</param>
    public AdamW(IEnumerable<ParameterGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, $"Invalid learning rate: {learningRate}");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"Invalid epsilon value: {eps}");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"Invalid beta parameter at index 0: {beta1}");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, $"Invalid beta parameter at index 1: {beta2}");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, $"Invalid weight_decay value: {weightDecay}");
        this.groups = groups.ToArray();
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in this.groups)
        {
            group.WeightDecay = group.WeightDecayOverride ?? weightDecay;
            group.LearningRate = group.LearningRateOverride ?? learningRate;
            group.InitialLearningRate = group.LearningRate;
            if (!(group.WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(groups), group.WeightDecay, $"Invalid weight_decay value: {group.WeightDecay}");
            foreach (var parameter in group.Parameters)
            {
                if (!names.Add(parameter.Name))
                {
                    throw new ArgumentException($"Parameter '{parameter.Name}' appears in more than one place in the optimizer's groups.", nameof(groups));
                }
            }
        }
    }

    /// <summary>One group holding every parameter.</summary>
    public AdamW(IEnumerable<ITrainableParameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2)
        : this([new ParameterGroup(parameters)], learningRate, beta1, beta2, eps, weightDecay)
    {
    }

    public IReadOnlyList<ParameterGroup> ParamGroups => groups;

    public double Beta1 { get; private set; }

    public double Beta2 { get; private set; }

    public double Eps { get; private set; }

    /// <summary>Per-parameter state by name (empty until the first step).</summary>
    public IReadOnlyDictionary<string, AdamWParameterState> State => state;

    /// <summary>Every parameter of every group, in group order.</summary>
    public IEnumerable<ITrainableParameter> Parameters => groups.SelectMany(g => g.Parameters);

    /// <summary>One update of every parameter from its current gradient (parallel over chunks; results do not depend on the thread count).</summary>
    /// <summary>The chunks of one step, kept between steps so a step allocates nothing once warm.</summary>
    private readonly List<(ITrainableParameter Parameter, AdamWParameterState State, AdamWCoefficients Coefficients, int Start, int Length)> work = [];

    public void Step()
    {
        var work = this.work;
        work.Clear();
        foreach (var group in groups)
        {
            foreach (var parameter in group.Parameters)
            {
                int length = parameter.Value.Length;
                if (parameter.Gradient.Length != length)
                {
                    throw new InvalidOperationException($"Parameter '{parameter.Name}': gradient has {parameter.Gradient.Length} elements but the value has {length}.");
                }
                if (!state.TryGetValue(parameter.Name, out var s))
                {
                    s = new AdamWParameterState(0, new float[length], new float[length]);
                    state[parameter.Name] = s;
                }
                else if (s.ExpAvg.Length != length)
                {
                    throw new InvalidOperationException($"Parameter '{parameter.Name}' has {length} elements but its optimizer state has {s.ExpAvg.Length}.");
                }
                s.Step++;
                var coefficients = AdamWCoefficients.For(group.LearningRate, Beta1, Beta2, Eps, group.WeightDecay, s.Step);
                for (int start = 0; start < length; start += ChunkSize)
                {
                    work.Add((parameter, s, coefficients, start, Math.Min(ChunkSize, length - start)));
                }
            }
        }
        KernelParallel.For(work.Count, i =>
        {
            var (parameter, s, coefficients, start, length) = work[i];
            AdamWKernels.Step(
                parameter.Value.Slice(start, length),
                parameter.Gradient.Slice(start, length),
                s.ExpAvg.AsSpan(start, length),
                s.ExpAvgSq.AsSpan(start, length),
                coefficients);
        });
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters) parameter.Gradient.Clear();
    }

    /// <summary>
    /// Writes <c>optimizer.json</c> (hyperparameters, groups with lr / initial_lr / weight_decay and
    /// parameter names, per-parameter steps) and <c>optimizer.safetensors</c> (exp_avg and exp_avg_sq
    /// per parameter, named "&lt;parameter&gt;.exp_avg" / ".exp_avg_sq") into <paramref name="directory"/>.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var json = new JsonObject
        {
            ["format"] = "sharpformers-adamw-1",
            ["betas"] = new JsonArray(Beta1, Beta2),
            ["eps"] = Eps,
            ["param_groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject
            {
                ["lr"] = g.LearningRate,
                ["initial_lr"] = g.InitialLearningRate,
                ["weight_decay"] = g.WeightDecay,
                ["params"] = new JsonArray(g.Parameters.Select(p => (JsonNode)JsonValue.Create(p.Name)!).ToArray()),
            }).ToArray()),
            ["state"] = new JsonObject(state.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, new JsonObject { ["step"] = p.Value.Step }))),
        };
        var tensors = new List<(string, float[])>();
        foreach (var parameter in Parameters)
        {
            if (state.TryGetValue(parameter.Name, out var s))
            {
                tensors.Add(($"{parameter.Name}.exp_avg", s.ExpAvg));
                tensors.Add(($"{parameter.Name}.exp_avg_sq", s.ExpAvgSq));
            }
        }
        StateTensorFile.Write(Path.Combine(directory, TensorsFileName), tensors);
        AtomicFile.WriteAllText(Path.Combine(directory, JsonFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public const string JsonFileName = "optimizer.json";

    public const string TensorsFileName = "optimizer.safetensors";

    /// <summary>
    /// Restores what <see cref="Save"/> wrote, as torch's load_state_dict: group hyperparameters are
    /// replaced by the saved ones, and the parameters must match by name and size.
    /// </summary>
    public void Load(string directory)
    {
        string jsonPath = Path.Combine(directory, JsonFileName);
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"Optimizer state not found: {jsonPath}", jsonPath);
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(jsonPath)) ?? throw new InvalidDataException($"{jsonPath}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{jsonPath}: invalid JSON ({e.Message}).", e);
        }
        try
        {
            var savedGroups = Field(root, "param_groups").AsArray();
            if (savedGroups.Count != groups.Length)
            {
                throw new InvalidDataException($"{jsonPath}: {savedGroups.Count} parameter groups saved, the optimizer has {groups.Length}.");
            }
            for (int g = 0; g < groups.Length; g++)
            {
                var names = Field(Element(savedGroups, g), "params").AsArray().Select(n => n?.GetValue<string>() ?? "").ToArray();
                var expected = groups[g].Parameters.Select(p => p.Name).ToArray();
                if (!names.SequenceEqual(expected))
                {
                    string missing = expected.Except(names).FirstOrDefault() ?? names.Except(expected).FirstOrDefault() ?? "(order differs)";
                    throw new InvalidDataException($"{jsonPath}: group {g} does not hold the model's parameters (first difference: {missing}).");
                }
            }
            var moments = StateTensorFile.Read(Path.Combine(directory, TensorsFileName));
            var newState = new Dictionary<string, AdamWParameterState>(StringComparer.Ordinal);
            foreach (var (name, node) in Field(root, "state").AsObject())
            {
                var parameter = Parameters.FirstOrDefault(p => p.Name == name)
                    ?? throw new InvalidDataException($"{jsonPath}: state for '{name}', which is not a parameter of this model.");
                if (!moments.TryGetValue($"{name}.exp_avg", out var expAvg) || !moments.TryGetValue($"{name}.exp_avg_sq", out var expAvgSq))
                {
                    throw new InvalidDataException($"{TensorsFileName}: no moments for '{name}'.");
                }
                if (expAvg.Length != parameter.Value.Length || expAvgSq.Length != parameter.Value.Length)
                {
                    throw new InvalidDataException($"{TensorsFileName}: '{name}' has {expAvg.Length} saved elements, the parameter has {parameter.Value.Length}.");
                }
                newState[name] = new AdamWParameterState(Field(node, "step").GetValue<long>(), expAvg, expAvgSq);
            }
            var betas = Field(root, "betas").AsArray();
            Beta1 = Element(betas, 0).GetValue<double>();
            Beta2 = Element(betas, 1).GetValue<double>();
            Eps = Field(root, "eps").GetValue<double>();
            for (int g = 0; g < groups.Length; g++)
            {
                var saved = Element(savedGroups, g);
                groups[g].LearningRate = Field(saved, "lr").GetValue<double>();
                groups[g].InitialLearningRate = Field(saved, "initial_lr").GetValue<double>();
                groups[g].WeightDecay = Field(saved, "weight_decay").GetValue<double>();
            }
            state.Clear();
            foreach (var (name, s) in newState) state[name] = s;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{jsonPath}: not a Sharpformers AdamW state ({e.Message}).", e);
        }

        JsonNode Field(JsonNode? node, string name) =>
            node?[name] ?? throw new InvalidDataException($"{jsonPath}: missing \"{name}\".");
    }

    private static JsonNode Element(JsonArray array, int index) =>
        index < array.Count && array[index] is { } node ? node : throw new InvalidDataException($"optimizer.json: array too short (index {index}).");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"AdamW(betas=({Beta1}, {Beta2}), eps={Eps}, groups=[{string.Join(", ", groups.Select(g => $"{{lr={g.LearningRate}, weight_decay={g.WeightDecay}, params={g.Parameters.Count}}}"))}])");
}
