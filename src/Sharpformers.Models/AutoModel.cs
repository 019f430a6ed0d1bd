using Sharpformers.Models.Configuration;
using Sharpformers.Nn;

namespace Sharpformers.Models;

/// <summary>transformers' AutoModel: the bare encoder of whatever architecture config.json names.</summary>
public static class AutoModel
{
    public static EncoderModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, requiredModelType: null, className: nameof(AutoModel),
            (architecture, config, builder) => options?.AddPoolingLayer == false && architecture.CreateBaseModelWithoutPooler is { } withoutPooler
                ? withoutPooler(config, builder)
                : architecture.CreateBaseModel(config, builder),
            isNewHeadParameter: name => name.StartsWith("pooler.", StringComparison.Ordinal));

    /// <summary>A randomly initialised model of the config's architecture (from_config).</summary>
    public static EncoderModel FromConfig(PretrainedConfig config, int? seed = null) =>
        ModelRegistry.Get(config.ModelType, config.SourcePath).CreateBaseModel(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>transformers' AutoModelForSequenceClassification.</summary>
public static class AutoModelForSequenceClassification
{
    public static SequenceClassificationModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, requiredModelType: null, className: nameof(AutoModelForSequenceClassification),
            (architecture, config, builder) => CreateHead(architecture, config, builder),
            isNewHeadParameter: IsHeadParameter);

    public static SequenceClassificationModel FromConfig(PretrainedConfig config, int? seed = null) =>
        CreateHead(ModelRegistry.Get(config.ModelType, config.SourcePath), config, ParameterBuilder.ForInitialization(seed));

    /// <summary>
    /// Parameters a classification checkpoint may legitimately lack: the head itself and a pooler
    /// (the base model's, or DeBERTa-v2's ContextPooler at the top level).
    /// </summary>
    internal static bool IsHeadParameter(string name)
    {
        int dot = name.IndexOf('.');
        string first = dot < 0 ? name : name[..dot];
        return first is "classifier" or "pre_classifier" or "pooler" || name.Contains(".pooler.", StringComparison.Ordinal);
    }

    private static SequenceClassificationModel CreateHead(ModelArchitecture architecture, PretrainedConfig config, ParameterBuilder builder) =>
        (architecture.CreateForSequenceClassification
            ?? throw new NotSupportedException($"model_type '{architecture.ModelType}' has no sequence-classification model."))(config, builder);
}

/// <summary>transformers' AutoModelForMaskedLM (BERT and DistilBERT).</summary>
public static class AutoModelForMaskedLM
{
    public static MaskedLMModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, requiredModelType: null, className: nameof(AutoModelForMaskedLM),
            (architecture, config, builder) => CreateHead(architecture, config, builder),
            isNewHeadParameter: IsHeadParameter);

    /// <summary>A randomly initialised model of the config's architecture (HF's from_config), seeded.</summary>
    public static MaskedLMModel FromConfig(PretrainedConfig config, int? seed = null) =>
        CreateHead(ModelRegistry.Get(config.ModelType, config.SourcePath), config, ParameterBuilder.ForInitialization(seed));

    /// <summary>Parameters a base checkpoint lacks and the masked-LM head initialises (with the load report).</summary>
    internal static bool IsHeadParameter(string name) =>
        name.StartsWith("vocab_", StringComparison.Ordinal) || name.StartsWith("cls.", StringComparison.Ordinal);

    private static MaskedLMModel CreateHead(ModelArchitecture architecture, PretrainedConfig config, ParameterBuilder builder) =>
        (architecture.CreateForMaskedLM
            ?? throw new NotSupportedException($"model_type '{architecture.ModelType}' has no masked-LM model (supported: bert, distilbert)."))(config, builder);
}
