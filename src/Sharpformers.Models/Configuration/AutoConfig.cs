using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Hub;
using Sharpformers.Utils;

namespace Sharpformers.Models.Configuration;

/// <summary>
/// Reads a model's config.json into the config class its <c>model_type</c> names
/// (<c>BertConfig</c>, <c>DistilBertConfig</c>, …), through <see cref="ModelRegistry"/>.
/// </summary>
public static class AutoConfig
{
    /// <summary>
    /// Loads config.json from a model folder, a Hub repo id (through the Hugging Face cache, honouring
    /// the options' Revision, CacheDir, LocalFilesOnly, Token) or the path of the file itself. The
    /// options' config keyword arguments (ConfigOverrides, NumLabels, Id2Label, ProblemType,
    /// OutputAttentions, OutputHiddenStates) are applied as transformers applies from_pretrained's kwargs.
    /// </summary>
    public static PretrainedConfig FromPretrained(string nameOrPath, FromPretrainedOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        options ??= new FromPretrainedOptions();
        var config = FromFile(ResolveConfigFile(nameOrPath, options));
        if (options.ConfigOverrides is { Count: > 0 } overrides) config.Update(overrides);
        PretrainedLoader.ApplyOptions(config, options);
        return config;
    }

    /// <summary>Loads config.json from a model folder, a repo id or the file itself, with config.json keys overridden (update_from_string).</summary>
    public static PretrainedConfig FromPretrained(string nameOrPath, IReadOnlyDictionary<string, string>? overrides) =>
        FromPretrained(nameOrPath, new FromPretrainedOptions { ConfigOverrides = overrides });

    /// <summary>The config.json to read: in a folder, the file itself, or resolved through the Hub cache.</summary>
    private static string ResolveConfigFile(string nameOrPath, FromPretrainedOptions options)
    {
        if (Directory.Exists(nameOrPath))
        {
            string inFolder = Path.GetFullPath(Path.Combine(nameOrPath, PretrainedConfig.FileName));
            if (!File.Exists(inFolder))
            {
                throw new FileNotFoundException(
                    $"'{Path.GetFullPath(nameOrPath)}' has no config.json: it is not a Hugging Face model folder (expected config.json beside the weights).", inFolder);
            }
            LfsPointer.ThrowIfPointer(inFolder);
            return inFolder;
        }
        if (File.Exists(nameOrPath))
        {
            LfsPointer.ThrowIfPointer(nameOrPath);
            return Path.GetFullPath(nameOrPath);
        }
        return Path.GetFullPath(PretrainedFiles.Resolve(nameOrPath, PretrainedConfig.FileName, options)!);
    }

    private static PretrainedConfig FromFile(string file)
    {
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
        return FromJson(json, file);
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
