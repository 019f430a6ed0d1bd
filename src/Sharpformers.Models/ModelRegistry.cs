using System.Collections.Concurrent;
using Sharpformers.Models.Albert;
using Sharpformers.Models.Bert;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.DebertaV2;
using Sharpformers.Models.DistilBert;
using Sharpformers.Models.Electra;
using Sharpformers.Models.Roberta;
using Sharpformers.Models.XlmRoberta;
using Sharpformers.Nn;

namespace Sharpformers.Models;

/// <summary>One architecture: its config class, the name its base model lives under in checkpoints, and its model classes.</summary>
public sealed class ModelArchitecture
{
    /// <summary>config.json's "model_type" ("bert").</summary>
    public required string ModelType { get; init; }

    /// <summary>A config with the architecture's defaults.</summary>
    public required Func<PretrainedConfig> CreateConfig { get; init; }

    /// <summary>HF's base_model_prefix ("bert", "distilbert"): where the base model sits inside a model with a head.</summary>
    public required string BaseModelPrefix { get; init; }

    /// <summary>Builds the bare encoder (AutoModel).</summary>
    public required Func<PretrainedConfig, ParameterBuilder, EncoderModel> CreateBaseModel { get; init; }

    /// <summary>
    /// Builds the bare encoder without its pooler (from_pretrained's add_pooling_layer=False), for
    /// architectures that have one (BERT, RoBERTa, XLM-RoBERTa, ALBERT); null when there is no pooler.
    /// </summary>
    public Func<PretrainedConfig, ParameterBuilder, EncoderModel>? CreateBaseModelWithoutPooler { get; init; }

    /// <summary>Builds the sequence-classification model (AutoModelForSequenceClassification), if the architecture has one.</summary>
    public Func<PretrainedConfig, ParameterBuilder, SequenceClassificationModel>? CreateForSequenceClassification { get; init; }

    /// <summary>Builds the masked-LM model (AutoModelForMaskedLM), if the architecture has one.</summary>
    public Func<PretrainedConfig, ParameterBuilder, MaskedLMModel>? CreateForMaskedLM { get; init; }
}

/// <summary>
/// The architectures the Auto classes dispatch to by model_type. Each architecture file contributes
/// one <see cref="ModelArchitecture"/>; others can <see cref="Register"/> more.
/// </summary>
public static class ModelRegistry
{
    private static readonly ConcurrentDictionary<string, ModelArchitecture> Architectures = new(StringComparer.Ordinal);

    static ModelRegistry()
    {
        Register(BertArchitecture.Definition);
        Register(DistilBertArchitecture.Definition);
        Register(RobertaArchitecture.Definition);
        Register(XlmRobertaArchitecture.Definition);
        Register(ElectraArchitecture.Definition);
        Register(AlbertArchitecture.Definition);
        Register(DebertaV2Architecture.Definition);
    }

    public static IReadOnlyCollection<string> ModelTypes => Architectures.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Adds (or replaces) an architecture.</summary>
    public static void Register(ModelArchitecture architecture) => Architectures[architecture.ModelType] = architecture;

    /// <summary>The architecture for <paramref name="modelType"/>; NotSupportedException naming the known ones otherwise.</summary>
    public static ModelArchitecture Get(string modelType, string? source)
    {
        if (Architectures.TryGetValue(modelType, out var architecture)) return architecture;
        string where = source is null ? "" : $"{source}: ";
        throw new NotSupportedException(
            $"{where}model_type '{modelType}' is not supported (supported: {string.Join(", ", ModelTypes)}).");
    }
}
