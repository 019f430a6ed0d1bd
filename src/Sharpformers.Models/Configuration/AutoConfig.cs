using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// Reads a model folder's config.json into the config class its <c>model_type</c> names
/// (<c>BertConfig</c>, <c>DistilBertConfig</c>, …), through <see cref="ModelRegistry"/>.
/// </summary>
public static class AutoConfig
{
    /// <summary>Loads config.json from a model folder (or the path of the file itself).</summary>
    public static PretrainedConfig FromPretrained(string path, IReadOnlyDictionary<string, string>? overrides = null)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, PretrainedConfig.FileName) : path;
        file = Path.GetFullPath(file);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException(Directory.Exists(path)
                ? $"'{Path.GetFullPath(path)}' has no config.json: it is not a Hugging Face model folder (expected config.json and model.safetensors)."
                : $"Model folder or config file '{Path.GetFullPath(path)}' was not found.", file);
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not valid JSON: {e.Message}", e);
        }
        if (root is not JsonObject json) throw new InvalidDataException($"{file} must hold a JSON object, not {root?.GetValueKind().ToString() ?? "null"}.");
        var config = FromJson(json, file);
        if (overrides is { Count: > 0 }) config.Update(overrides);
        return config;
    }

    /// <summary>A config from a parsed config.json object; <paramref name="source"/> names it in errors.</summary>
    public static PretrainedConfig FromJson(JsonObject json, string source = PretrainedConfig.FileName)
    {
        if (!json.TryGetPropertyValue("model_type", out var typeNode) || typeNode is null)
        {
            throw new InvalidDataException(
                $"{source}: required field 'model_type' (a string) is missing, so the architecture is unknown (supported: {string.Join(", ", ModelRegistry.ModelTypes)}).");
        }
        if (typeNode.GetValueKind() != JsonValueKind.String)
        {
            throw new InvalidDataException($"{source}: field 'model_type' must be a string, got {typeNode.ToJsonString()}.");
        }
        var architecture = ModelRegistry.Get(typeNode.GetValue<string>(), source);
        var config = architecture.CreateConfig();
        config.ReadFrom(json, source);
        return config;
    }

    /// <summary>A config with the architecture's defaults (e.g. bert-base's shape for "bert").</summary>
    public static PretrainedConfig ForModelType(string modelType) => ModelRegistry.Get(modelType, null).CreateConfig();
}
