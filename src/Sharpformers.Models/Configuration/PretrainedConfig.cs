using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Utils;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// What every model's config.json shares, as in transformers' PretrainedConfig: labels
/// (<see cref="Id2Label"/>, <see cref="Label2Id"/>, <see cref="NumLabels"/>), <see cref="ProblemType"/>,
/// output switches, special token ids, and the keys this library does not model, kept verbatim so a
/// saved config round-trips. Architectures derive from it and read every field that changes the math.
/// </summary>
public abstract class PretrainedConfig
{
    public const string FileName = "config.json";

    private static readonly string[] ProblemTypes = ["regression", "single_label_classification", "multi_label_classification"];

    private Dictionary<int, string> id2Label = DefaultLabels(2);
    private Dictionary<string, int> label2Id = Invert(DefaultLabels(2));
    private string? problemType;

    /// <summary>The "model_type" this class reads and writes ("bert", "distilbert", …).</summary>
    public abstract string ModelType { get; }

    /// <summary>The HF model classes the weights were saved from, e.g. ["BertForSequenceClassification"].</summary>
    public IReadOnlyList<string>? Architectures { get; set; }

    /// <summary>Class index → label name. Setting it also sets <see cref="Label2Id"/> (inverted) and <see cref="NumLabels"/>.</summary>
    public IReadOnlyDictionary<int, string> Id2Label
    {
        get => id2Label;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var copy = new Dictionary<int, string>(value);
            for (int i = 0; i < copy.Count; i++)
            {
                if (!copy.ContainsKey(i))
                {
                    throw new ArgumentException($"Id2Label must map 0..{copy.Count - 1}; {i} is missing (keys: {string.Join(", ", copy.Keys.Order())}).", nameof(value));
                }
            }
            id2Label = copy;
            label2Id = Invert(copy);
        }
    }

    /// <summary>Label name → class index (kept as given when read from config.json).</summary>
    public IReadOnlyDictionary<string, int> Label2Id
    {
        get => label2Id;
        set => label2Id = new Dictionary<string, int>(value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>
    /// The number of labels. Setting a different count replaces the labels with LABEL_0…LABEL_{n-1},
    /// as transformers does.
    /// </summary>
    public int NumLabels
    {
        get => id2Label.Count;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "num_labels must be at least 1.");
            if (value != id2Label.Count) Id2Label = DefaultLabels(value);
        }
    }

    /// <summary>"regression", "single_label_classification", "multi_label_classification" or null (decided from the labels at the first loss).</summary>
    public string? ProblemType
    {
        get => problemType;
        set
        {
            if (value is not null && !ProblemTypes.Contains(value))
            {
                throw new ArgumentException($"problem_type must be one of {string.Join(", ", ProblemTypes)} or null, got '{value}'.", nameof(value));
            }
            problemType = value;
        }
    }

    public bool OutputAttentions { get; set; }

    public bool OutputHiddenStates { get; set; }

    public int? PadTokenId { get; set; }

    public int? BosTokenId { get; set; }

    public int? EosTokenId { get; set; }

    public int? SepTokenId { get; set; }

    public string? TorchDtype { get; set; }

    public string? FinetuningTask { get; set; }

    public string? TransformersVersion { get; set; }

    /// <summary>The architecture's pad_token_id when config.json does not give one.</summary>
    protected virtual int? DefaultPadTokenId => null;

    /// <summary>Std of the normal distribution new weights are drawn from (HF's initializer_range).</summary>
    public abstract double InitializerRange { get; set; }

    /// <summary>The width of the hidden states (HF's attribute_map names it hidden_size for every model).</summary>
    public abstract int HiddenSize { get; set; }

    public abstract int NumHiddenLayers { get; set; }

    public abstract int NumAttentionHeads { get; set; }

    /// <summary>Keys of config.json this library does not model, kept verbatim for saving.</summary>
    public JsonObject ExtraProperties { get; private set; } = new();

    /// <summary>Where the config was read from ("config.json" path), or null when built in code.</summary>
    public string? SourcePath { get; private set; }

    /// <summary>Fills this config from a parsed config.json object; <paramref name="source"/> names it in errors.</summary>
    public void ReadFrom(JsonObject json, string source)
    {
        var r = new ConfigReader(json, source);
        string modelType = r.String("model_type", ModelType);
        if (modelType != ModelType)
        {
            throw new InvalidDataException($"{source}: model_type is '{modelType}', but this is a {GetType().Name} ('{ModelType}').");
        }
        ReadBase(r);
        ReadModelFields(r);
        ExtraProperties = r.Unconsumed();
        SourcePath = source;
        Validate();
    }

    /// <summary>Architecture fields: read every one that changes the math.</summary>
    protected abstract void ReadModelFields(ConfigReader reader);

    /// <summary>Architecture fields, written under their config.json names.</summary>
    protected abstract void WriteModelFields(JsonObject json);

    /// <summary>Checks combinations (e.g. hidden size divisible by heads); InvalidDataException naming config.json.</summary>
    public virtual void Validate()
    {
    }

    /// <summary>The config as config.json's object: extra keys, base fields that differ from defaults, every architecture field.</summary>
    public JsonObject ToJsonObject()
    {
        var json = (JsonObject)ExtraProperties.DeepClone();
        json["model_type"] = ModelType;
        if (Architectures is not null) json["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        if (!IsDefaultLabels())
        {
            var i2l = new JsonObject();
            foreach (var (id, label) in id2Label.OrderBy(p => p.Key)) i2l[id.ToString(CultureInfo.InvariantCulture)] = label;
            json["id2label"] = i2l;
            var l2i = new JsonObject();
            foreach (var (label, id) in label2Id) l2i[label] = id;
            json["label2id"] = l2i;
        }
        else
        {
            json.Remove("id2label");
            json.Remove("label2id");
        }
        SetOrRemove(json, "problem_type", problemType);
        SetOrRemove(json, "output_attentions", OutputAttentions ? (bool?)true : null);
        SetOrRemove(json, "output_hidden_states", OutputHiddenStates ? (bool?)true : null);
        SetOrRemove(json, "pad_token_id", PadTokenId);
        SetOrRemove(json, "bos_token_id", BosTokenId);
        SetOrRemove(json, "eos_token_id", EosTokenId);
        SetOrRemove(json, "sep_token_id", SepTokenId);
        SetOrRemove(json, "torch_dtype", TorchDtype);
        SetOrRemove(json, "finetuning_task", FinetuningTask);
        SetOrRemove(json, "transformers_version", TransformersVersion);
        WriteModelFields(json);
        return json;
    }

    /// <summary>config.json's text, as transformers writes it (sorted keys, indent 2, trailing newline).</summary>
    public string ToJsonString() => PythonJson.Serialize(ToJsonObject(), indent: 2, sortKeys: true) + "\n";

    /// <summary>Writes config.json into <paramref name="directory"/> (atomically).</summary>
    public void SavePretrained(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), ToJsonString());
    }

    /// <summary>
    /// Overrides from "key=value" strings (the CLI's --config-overrides), like transformers'
    /// update_from_string: the key must exist in the config, the value is parsed as the existing
    /// value's type (bool, int, float, string; null takes the literal's type), and the result is
    /// validated as a config.json would be.
    /// </summary>
    public void Update(IReadOnlyDictionary<string, string> overrides)
    {
        var json = ToJsonObject();
        int? numLabels = null;
        foreach (var (key, text) in overrides)
        {
            if (key == "num_labels")
            {
                // A property in transformers (it rewrites id2label), not a stored key.
                numLabels = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1
                    ? n : throw new ArgumentException($"Config override 'num_labels={text}': expected a positive integer.");
                continue;
            }
            if (!json.TryGetPropertyValue(key, out var current) && !IsKnownOptionalKey(key))
            {
                throw new ArgumentException(
                    $"Config override '{key}={text}': '{key}' is not a field of this {ModelType} config; fields: {string.Join(", ", json.Select(p => p.Key).Order(StringComparer.Ordinal))}.");
            }
            json[key] = ParseOverride(key, text, current);
        }
        string source = SourcePath is null ? "config overrides" : $"{SourcePath} with overrides";
        // Validated on a copy first, so a bad override leaves this config as it was.
        ((PretrainedConfig)MemberwiseClone()).ReadFrom(json, source);
        ReadFrom(json, source);
        if (numLabels is int count) NumLabels = count;
    }

    /// <summary>"key1=value1,key2=value2" (commas inside a value are not supported, as in transformers).</summary>
    public void UpdateFromString(string overrides)
    {
        var dict = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in overrides.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"Config override '{part}' is not of the form key=value.");
            dict[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        Update(dict);
    }

    /// <summary>A deep copy (through config.json's representation).</summary>
    public PretrainedConfig Clone()
    {
        var copy = (PretrainedConfig)MemberwiseClone();
        copy.ReadFrom(ToJsonObject(), SourcePath ?? "config");
        copy.SourcePath = SourcePath;
        return copy;
    }

    public override string ToString() => $"{GetType().Name} {ToJsonString()}";

    /// <summary>HF's default labels: LABEL_0 … LABEL_{n-1}.</summary>
    public static Dictionary<int, string> DefaultLabels(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => i, i => $"LABEL_{i}");

    private void ReadBase(ConfigReader r)
    {
        Architectures = r.NullableStringList("architectures");
        var i2l = r.NullableObject("id2label");
        var l2i = r.NullableObject("label2id");
        int? numLabels = r.NullableInt("num_labels", null);
        if (i2l is not null)
        {
            var labels = new Dictionary<int, string>();
            foreach (var (key, value) in i2l)
            {
                if (!int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
                {
                    throw r.Error("id2label", $"must have integer keys (\"0\", \"1\", …), got \"{key}\"");
                }
                if (value?.GetValueKind() != JsonValueKind.String) throw r.Wrong($"id2label.{key}", "a string", value);
                labels[id] = value.GetValue<string>();
            }
            try
            {
                Id2Label = labels;
            }
            catch (ArgumentException e)
            {
                throw r.Error("id2label", e.Message.Replace("Id2Label", "id2label", StringComparison.Ordinal).Split(" (Parameter")[0]);
            }
        }
        else
        {
            Id2Label = DefaultLabels(numLabels ?? 2);
        }
        if (l2i is not null)
        {
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (key, value) in l2i)
            {
                if (value?.GetValueKind() != JsonValueKind.Number || !value.AsValue().TryGetValue(out int id))
                {
                    throw r.Wrong($"label2id.{key}", "an integer", value);
                }
                map[key] = id;
            }
            label2Id = map;
        }
        string? problem = r.NullableString("problem_type");
        if (problem is not null && !ProblemTypes.Contains(problem))
        {
            throw r.Error("problem_type", $"must be one of {string.Join(", ", ProblemTypes)} or null, got \"{problem}\"");
        }
        problemType = problem;
        OutputAttentions = r.Bool("output_attentions", false);
        OutputHiddenStates = r.Bool("output_hidden_states", false);
        PadTokenId = r.NullableInt("pad_token_id", DefaultPadTokenId);
        BosTokenId = r.NullableInt("bos_token_id", null);
        EosTokenId = r.NullableInt("eos_token_id", null);
        SepTokenId = r.NullableInt("sep_token_id", null);
        TorchDtype = r.NullableString("torch_dtype");
        FinetuningTask = r.NullableString("finetuning_task");
        TransformersVersion = r.NullableString("transformers_version");
    }

    private bool IsDefaultLabels()
    {
        if (id2Label.Count != 2) return false;
        var defaults = DefaultLabels(2);
        return id2Label.All(p => defaults[p.Key] == p.Value) && label2Id.Count == 2 && label2Id.All(p => defaults.TryGetValue(p.Value, out var l) && l == p.Key);
    }

    private static bool IsKnownOptionalKey(string key) => key is "problem_type" or "output_attentions" or "output_hidden_states"
        or "pad_token_id" or "bos_token_id" or "eos_token_id" or "sep_token_id" or "torch_dtype" or "finetuning_task";

    private static JsonNode? ParseOverride(string key, string text, JsonNode? current)
    {
        var kind = current?.GetValueKind() ?? JsonValueKind.Null;
        switch (kind)
        {
            case JsonValueKind.True:
            case JsonValueKind.False:
                return text.ToLowerInvariant() switch
                {
                    "true" or "1" or "y" or "yes" => JsonValue.Create(true),
                    "false" or "0" or "n" or "no" => JsonValue.Create(false),
                    _ => throw new ArgumentException($"Config override '{key}={text}': '{key}' is a boolean; use true or false."),
                };
            case JsonValueKind.Number:
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return JsonNode.Parse(text);
                throw new ArgumentException($"Config override '{key}={text}': '{key}' is a number.");
            case JsonValueKind.String:
                return JsonValue.Create(text);
            case JsonValueKind.Null:
                if (text == "null") return null;
                if (bool.TryParse(text, out bool b)) return JsonValue.Create(b);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return JsonNode.Parse(text);
                return JsonValue.Create(text);
            default:
                throw new ArgumentException($"Config override '{key}={text}': only numbers, booleans and strings can be overridden; '{key}' is {kind}.");
        }
    }

    private static void SetOrRemove<T>(JsonObject json, string key, T? value)
    {
        if (value is null) json.Remove(key);
        else json[key] = JsonValue.Create(value);
    }

    private static Dictionary<string, int> Invert(Dictionary<int, string> labels)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, label) in labels) result[label] = id;
        return result;
    }
}
