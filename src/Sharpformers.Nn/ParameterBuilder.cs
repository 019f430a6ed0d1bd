using System.Globalization;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;

namespace Sharpformers.Nn;

/// <summary>
/// Creates a model's parameters under their state-dict names, candle-style: layers ask for
/// <c>builder.Prefix("encoder").Prefix("layer").Prefix(0).Get("weight", shape, init)</c>. Each parameter
/// is taken from the checkpoint when it has it (zero-copy for float32 safetensors), else initialised
/// and recorded as newly initialised; <see cref="Finish"/> reports what the checkpoint had that the
/// model did not use, as Hugging Face's from_pretrained warns.
/// </summary>
public sealed class ParameterBuilder
{
    private readonly LoadingState state;

    private ParameterBuilder(LoadingState state, string prefix)
    {
        this.state = state;
        CurrentPrefix = prefix;
    }

    /// <summary>The dotted name prefix of this builder ("" at the root).</summary>
    public string CurrentPrefix { get; }

    /// <summary>The parameters created so far through any builder of this tree, in creation order.</summary>
    public ParameterCollection Parameters => state.Parameters;

    /// <summary>Whether parameters come from a checkpoint (false: every one is initialised).</summary>
    public bool HasCheckpoint => state.Checkpoint is not null;

    /// <summary>A builder that initialises every parameter (a model from its config, like HF's from_config).</summary>
    public static ParameterBuilder ForInitialization(int? seed = null) =>
        new(new LoadingState(null, new LoadingOptions { Seed = seed }), "");

    /// <summary>
    /// A builder over a checkpoint. <paramref name="options"/> says under which prefix the base model
    /// sits (e.g. "bert") and whether the model being built keeps it, so a base checkpoint loads into a
    /// model with a head and a headed checkpoint into a bare base model.
    /// </summary>
    public static ParameterBuilder ForCheckpoint(ICheckpointReader checkpoint, LoadingOptions options) =>
        new(new LoadingState(checkpoint, options), "");

    public ParameterBuilder Prefix(string name) => new(state, Join(CurrentPrefix, name));

    public ParameterBuilder Prefix(int index) => Prefix(index.ToString(CultureInfo.InvariantCulture));

    public string FullName(string name) => Join(CurrentPrefix, name);

    /// <summary>Gets (loads or initialises) the parameter <paramref name="name"/> under this prefix.</summary>
    public Parameter Get(string name, ReadOnlySpan<int> shape, ParameterInit init, bool requiresGrad = true)
    {
        string fullName = FullName(name);
        var tensor = state.Load(fullName, shape, init);
        var parameter = new Parameter(fullName, tensor, requiresGrad);
        state.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>
    /// Declares a buffer the model computes itself (e.g. position_ids): a checkpoint entry of that name
    /// is expected and ignored rather than reported as unused.
    /// </summary>
    public void DeclareBuffer(string name) => state.DeclareBuffer(FullName(name));

    /// <summary>Ends loading: the report of newly initialised, unused and re-initialised weights.</summary>
    public WeightLoadReport Finish(string modelClass) => state.Finish(modelClass);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}

/// <summary>How checkpoint names relate to the model's, and what to do when they do not line up.</summary>
public sealed class LoadingOptions
{
    /// <summary>The base model's attribute name ("bert", "distilbert"): HF's base_model_prefix.</summary>
    public string BaseModelPrefix { get; init; } = "";

    /// <summary>Whether the model being built holds its base model under <see cref="BaseModelPrefix"/> (true for models with a head).</summary>
    public bool ModelUsesPrefix { get; init; }

    /// <summary>Re-initialise parameters whose checkpoint shape differs instead of failing (HF's ignore_mismatched_sizes).</summary>
    public bool IgnoreMismatchedSizes { get; init; }

    /// <summary>Seed for initialising parameters the checkpoint lacks; null for a fresh random seed.</summary>
    public int? Seed { get; init; }
}

/// <summary>One parameter whose checkpoint shape did not fit the model.</summary>
public sealed record MismatchedWeight(string Name, IReadOnlyList<long> CheckpointShape, IReadOnlyList<int> ModelShape);

internal sealed class LoadingState
{
    private readonly LoadingOptions options;
    private readonly NormalSampler random;
    private readonly Dictionary<string, string> checkpointKeyByFixedName = new(StringComparer.Ordinal);
    private readonly HashSet<string> consumed = new(StringComparer.Ordinal);
    private readonly HashSet<string> buffers = new(StringComparer.Ordinal);
    private readonly List<string> missing = [];
    private readonly List<string> missingModelNames = [];
    private readonly List<MismatchedWeight> mismatched = [];
    private readonly bool removePrefixFromModel;
    private readonly bool addPrefixToModel;

    public LoadingState(ICheckpointReader? checkpoint, LoadingOptions options)
    {
        Checkpoint = checkpoint;
        this.options = options;
        random = new NormalSampler(options.Seed);
        if (checkpoint is null) return;
        foreach (var info in checkpoint.Tensors)
        {
            // HF's legacy renames: TF-era LayerNorm "gamma"/"beta" are "weight"/"bias".
            checkpointKeyByFixedName.TryAdd(FixLegacyName(info.Name), info.Name);
        }
        string prefix = options.BaseModelPrefix;
        if (prefix.Length > 0)
        {
            bool checkpointHasPrefix = checkpointKeyByFixedName.Keys.Any(k => k.StartsWith(prefix + ".", StringComparison.Ordinal));
            removePrefixFromModel = !checkpointHasPrefix && options.ModelUsesPrefix;
            addPrefixToModel = checkpointHasPrefix && !options.ModelUsesPrefix;
        }
    }

    public ICheckpointReader? Checkpoint { get; }

    public ParameterCollection Parameters { get; } = new();

    public Tensor Load(string modelName, ReadOnlySpan<int> shape, ParameterInit init)
    {
        if (Checkpoint is not null)
        {
            string name = CheckpointName(modelName);
            if (checkpointKeyByFixedName.TryGetValue(name, out var key))
            {
                consumed.Add(key);
                var info = Checkpoint.GetInfo(key);
                if (SameShape(info.Shape, shape))
                {
                    return Checkpoint.ReadTensor(key);
                }
                if (!options.IgnoreMismatchedSizes)
                {
                    throw new InvalidDataException(
                        $"'{Checkpoint.SourcePath}': size mismatch for {name}: the checkpoint has shape {Format(info.Shape)}, " +
                        $"the model built from config.json needs {Format(shape)}. Check config.json, or pass IgnoreMismatchedSizes = true to re-initialise it.");
                }
                mismatched.Add(new MismatchedWeight(name, info.Shape, shape.ToArray()));
            }
            else
            {
                missing.Add(name);
                missingModelNames.Add(modelName);
            }
        }
        var tensor = Tensor.Zeros(shape);
        init.Fill(tensor.Span, tensor.Shape, random);
        return tensor;
    }

    public void DeclareBuffer(string modelName) => buffers.Add(CheckpointName(modelName));

    public WeightLoadReport Finish(string modelClass)
    {
        if (Checkpoint is null) return new WeightLoadReport(null, modelClass, [], [], [], []);
        var unexpected = checkpointKeyByFixedName
            .Where(kv => !consumed.Contains(kv.Value) && !buffers.Contains(kv.Key))
            .Select(kv => kv.Value)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new WeightLoadReport(Checkpoint.SourcePath, modelClass, missing.Order(StringComparer.Ordinal).ToList(), unexpected, mismatched, missingModelNames);
    }

    private string CheckpointName(string modelName)
    {
        string prefix = options.BaseModelPrefix + ".";
        if (removePrefixFromModel && modelName.StartsWith(prefix, StringComparison.Ordinal)) return modelName[prefix.Length..];
        if (addPrefixToModel) return prefix + modelName;
        return modelName;
    }

    private static string FixLegacyName(string name)
    {
        int dot = name.LastIndexOf('.');
        string last = name[(dot + 1)..];
        return last switch
        {
            "gamma" => name[..(dot + 1)] + "weight",
            "beta" => name[..(dot + 1)] + "bias",
            _ => name,
        };
    }

    private static bool SameShape(IReadOnlyList<long> stored, ReadOnlySpan<int> wanted)
    {
        if (stored.Count != wanted.Length) return false;
        for (int i = 0; i < wanted.Length; i++) if (stored[i] != wanted[i]) return false;
        return true;
    }

    private static string Format(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";

    private static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
