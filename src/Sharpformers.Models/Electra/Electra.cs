using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;

namespace Sharpformers.Models.Electra;

// ELECTRA (the discriminator) as transformers' modeling_electra.py has it: BERT's embeddings at
// embedding_size, projected to hidden_size by embeddings_project when the two differ, BERT's encoder
// under BERT's names, no pooler, and the dense → GELU → out_proj head on the first token.

/// <summary>transformers' ElectraConfig. Defaults are ElectraConfig()'s (electra-small's discriminator shape).</summary>
public sealed class ElectraConfig : TransformerEncoderConfig
{
    public const string Type = "electra";

    private static readonly EncoderConfigDefaults ElectraDefaults = new()
    {
        VocabSize = 30522,
        HiddenSize = 256,
        NumHiddenLayers = 12,
        NumAttentionHeads = 4,
        IntermediateSize = 1024,
        PadTokenId = 0,
    };

    public override string ModelType => Type;

    protected override EncoderConfigDefaults Defaults => ElectraDefaults;

    /// <summary>Width of the embeddings; a Linear (embeddings_project) maps them to hidden_size when they differ.</summary>
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>"absolute" (the relative variants are not implemented).</summary>
    public string PositionEmbeddingType { get; set; } = "absolute";

    public bool UseCache { get; set; } = true;

    /// <summary>Dropout in the classification head; null means <see cref="TransformerEncoderConfig.HiddenDropoutProb"/>.</summary>
    public double? ClassifierDropout { get; set; }

    // The sequence-summary fields only ElectraForMultipleChoice reads; kept so config.json round-trips.
    public string SummaryType { get; set; } = "first";

    public bool SummaryUseProj { get; set; } = true;

    public string? SummaryActivation { get; set; } = "gelu";

    public double SummaryLastDropout { get; set; } = 0.1;

    protected override void ReadArchitectureFields(ConfigReader r)
    {
        EmbeddingSize = r.Int("embedding_size", 128);
        PositionEmbeddingType = r.String("position_embedding_type", "absolute");
        UseCache = r.Bool("use_cache", true);
        ClassifierDropout = ReadNullableFloat(r, "classifier_dropout", null);
        SummaryType = r.String("summary_type", "first");
        SummaryUseProj = r.Bool("summary_use_proj", true);
        SummaryActivation = r.NullableString("summary_activation", "gelu");
        SummaryLastDropout = ReadFloat(r, "summary_last_dropout", 0.1);
        if (r.Has("is_decoder") && r.Bool("is_decoder", false)) throw r.Error("is_decoder", "is true; only ELECTRA as an encoder is supported");
        if (r.Has("add_cross_attention") && r.Bool("add_cross_attention", false)) throw r.Error("add_cross_attention", "is true; cross-attention is not supported");
    }

    protected override void WriteArchitectureFields(JsonObject json)
    {
        json["embedding_size"] = EmbeddingSize;
        json["position_embedding_type"] = PositionEmbeddingType;
        json["use_cache"] = UseCache;
        WriteFloat(json, "classifier_dropout", ClassifierDropout);
        json["summary_type"] = SummaryType;
        json["summary_use_proj"] = SummaryUseProj;
        json["summary_activation"] = SummaryActivation;
        WriteFloat(json, "summary_last_dropout", SummaryLastDropout);
    }

    protected override void ValidateArchitecture()
    {
        Positive(EmbeddingSize, "embedding_size");
        Positive(TypeVocabSize, "type_vocab_size");
        RequireHeadsDivideHidden();
        RequireAbsolutePositions(PositionEmbeddingType);
    }
}

/// <summary>transformers' ElectraModel: embeddings, the optional embeddings_project, BERT's encoder (no pooler).</summary>
public sealed class ElectraModel : EncoderModel
{
    private readonly ElectraConfig config;
    private readonly PostNormEncoder encoder;

    public ElectraModel(ElectraConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        double std = config.InitializerRange;
        Embeddings = new WordPositionTypeEmbeddings(builder.Prefix("embeddings"), config.VocabSize, config.MaxPositionEmbeddings,
            config.TypeVocabSize, config.EmbeddingSize, config.LayerNormEps, std, config.PadTokenId, dropout: 0);
        if (config.EmbeddingSize != config.HiddenSize)
        {
            EmbeddingsProject = new Linear(builder.Prefix("embeddings_project"), config.EmbeddingSize, config.HiddenSize, std);
        }
        Layers = BertStyleLayer.CreateStack(builder.Prefix("encoder"), config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize,
            config.NumAttentionHeads, config.Activation, config.LayerNormEps, std);
        encoder = new PostNormEncoder(Embeddings, EmbeddingsProject, Layers, config.HiddenSize, config.NumAttentionHeads, config.IntermediateSize);
    }

    public new ElectraConfig Config => config;

    public WordPositionTypeEmbeddings Embeddings { get; }

    /// <summary>embeddings_project (embedding_size → hidden_size); null when the two are equal.</summary>
    public Linear? EmbeddingsProject { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    public static ElectraModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, ElectraConfig.Type, nameof(ElectraModel),
            (_, c, b) => new ElectraModel((ElectraConfig)c, b), _ => false);

    public static ElectraModel FromConfig(ElectraConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        return encoder.Run(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, outputAttentions, outputHiddenStates,
            firstTokensOnly, precision);
    }
}

/// <summary>
/// transformers' ElectraForSequenceClassification: ELECTRA and its classification head (first token →
/// dense → GELU → out_proj; the activation is GELU whatever hidden_act says, as in transformers).
/// </summary>
public sealed class ElectraForSequenceClassification : SequenceClassificationModel
{
    public ElectraForSequenceClassification(ElectraConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        Electra = new ElectraModel(config, builder.Prefix("electra"));
        Classifier = new FirstTokenClassificationHead(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels,
            ActivationFunction.Gelu, config.InitializerRange);
    }

    public ElectraModel Electra { get; }

    public FirstTokenClassificationHead Classifier { get; }

    public new ElectraConfig Config => Electra.Config;

    private protected override EncoderModel BaseEncoder => Electra;

    private protected override FirstTokenClassificationHead Head => Classifier;

    public static ElectraForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, ElectraConfig.Type, nameof(ElectraForSequenceClassification),
            (_, c, b) => new ElectraForSequenceClassification((ElectraConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static ElectraForSequenceClassification FromConfig(ElectraConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>ELECTRA's entry in <see cref="ModelRegistry"/>.</summary>
public static class ElectraArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = ElectraConfig.Type,
        BaseModelPrefix = "electra",
        CreateConfig = () => new ElectraConfig(),
        CreateBaseModel = (config, builder) => new ElectraModel(As(config), builder),
        CreateForSequenceClassification = (config, builder) => new ElectraForSequenceClassification(As(config), builder),
    };

    private static ElectraConfig As(PretrainedConfig config) =>
        config as ElectraConfig ?? throw new ArgumentException($"An ELECTRA model needs an ElectraConfig, got {config.GetType().Name}.", nameof(config));
}
