using Sharpformers.Models.Configuration;
using Sharpformers.Models.Roberta;
using Sharpformers.Nn;

namespace Sharpformers.Models.XlmRoberta;

// XLM-RoBERTa as transformers' modeling_xlm_roberta.py has it: every class there is "Copied from"
// RoBERTa's with the names changed, so these classes are RoBERTa's under XLM-RoBERTa's config type,
// model_type ("xlm-roberta") and class names. Checkpoints keep the "roberta." prefix.

/// <summary>transformers' XLMRobertaConfig (model_type "xlm-roberta"). Defaults are XLMRobertaConfig()'s.</summary>
public sealed class XlmRobertaConfig : RobertaConfig
{
    public new const string Type = "xlm-roberta";

    private static readonly EncoderConfigDefaults XlmRobertaDefaults = new()
    {
        VocabSize = 30522,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
        PadTokenId = 1,
    };

    public override string ModelType => Type;

    protected override EncoderConfigDefaults Defaults => XlmRobertaDefaults;
}

/// <summary>transformers' XLMRobertaModel.</summary>
public sealed class XlmRobertaModel : RobertaModel
{
    public XlmRobertaModel(XlmRobertaConfig config, ParameterBuilder builder, bool addPoolingLayer = true)
        : base(config, builder, addPoolingLayer)
    {
    }

    public override string ClassName => "XLMRobertaModel";

    public new XlmRobertaConfig Config => (XlmRobertaConfig)base.Config;

    public static new XlmRobertaModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, XlmRobertaConfig.Type, "XLMRobertaModel",
            (_, c, b) => new XlmRobertaModel((XlmRobertaConfig)c, b, options?.AddPoolingLayer ?? true), IsPoolerParameter);

    public static XlmRobertaModel FromConfig(XlmRobertaConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>transformers' XLMRobertaForSequenceClassification (RoBERTa's head: dense → tanh → out_proj on &lt;s&gt;).</summary>
public sealed class XlmRobertaForSequenceClassification : RobertaForSequenceClassification
{
    public XlmRobertaForSequenceClassification(XlmRobertaConfig config, ParameterBuilder builder)
        : base(config, builder, (c, b) => new XlmRobertaModel((XlmRobertaConfig)c, b, addPoolingLayer: false))
    {
    }

    public override string ClassName => "XLMRobertaForSequenceClassification";

    public new XlmRobertaConfig Config => (XlmRobertaConfig)base.Config;

    public static new XlmRobertaForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, XlmRobertaConfig.Type, "XLMRobertaForSequenceClassification",
            (_, c, b) => new XlmRobertaForSequenceClassification((XlmRobertaConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static XlmRobertaForSequenceClassification FromConfig(XlmRobertaConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>XLM-RoBERTa's entry in <see cref="ModelRegistry"/>.</summary>
public static class XlmRobertaArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = XlmRobertaConfig.Type,
        BaseModelPrefix = "roberta",
        CreateConfig = () => new XlmRobertaConfig(),
        CreateBaseModel = (config, builder) => new XlmRobertaModel(As(config), builder),
        CreateBaseModelWithoutPooler = (config, builder) => new XlmRobertaModel(As(config), builder, addPoolingLayer: false),
        CreateForSequenceClassification = (config, builder) => new XlmRobertaForSequenceClassification(As(config), builder),
    };

    private static XlmRobertaConfig As(PretrainedConfig config) =>
        config as XlmRobertaConfig ?? throw new ArgumentException($"An XLM-RoBERTa model needs an XlmRobertaConfig, got {config.GetType().Name}.", nameof(config));
}
