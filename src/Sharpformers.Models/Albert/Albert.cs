using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;

namespace Sharpformers.Models.Albert;

// ALBERT as transformers' modeling_albert.py has it: factorised embeddings (embedding_size) mapped to
// hidden_size by the encoder's embedding_hidden_mapping_in, num_hidden_groups groups of inner_group_num
// post-LN layers whose weights every layer of the group's share (layer i runs group
// int(i / (num_hidden_layers / num_hidden_groups))), a dense + tanh pooler and a linear classifier.

/// <summary>transformers' AlbertConfig. Defaults are AlbertConfig()'s (albert-xxlarge's shape).</summary>
public sealed class AlbertConfig : TransformerEncoderConfig
{
    public const string Type = "albert";

    private static readonly EncoderConfigDefaults AlbertDefaults = new()
    {
        VocabSize = 30000,
        HiddenSize = 4096,
        NumHiddenLayers = 12,
        NumAttentionHeads = 64,
        IntermediateSize = 16384,
        HiddenAct = "gelu_new",
        HiddenDropoutProb = 0,
        AttentionProbsDropoutProb = 0,
        PadTokenId = 0,
        IntegerDefaults = ["hidden_dropout_prob", "attention_probs_dropout_prob"],
    };

    public AlbertConfig()
    {
        BosTokenId = 2;
        EosTokenId = 3;
    }

    public override string ModelType => Type;

    protected override EncoderConfigDefaults Defaults => AlbertDefaults;

    /// <summary>Width of the embeddings, mapped to hidden_size by embedding_hidden_mapping_in.</summary>
    public int EmbeddingSize { get; set; } = 128;

    /// <summary>How many distinct groups of layer weights the num_hidden_layers layers share.</summary>
    public int NumHiddenGroups { get; set; } = 1;

    /// <summary>Layers inside each group; every layer pass runs all of them.</summary>
    public int InnerGroupNum { get; set; } = 1;

    /// <summary>Dropout before the classifier (inactive at inference).</summary>
    public double ClassifierDropoutProb { get; set; } = 0.1;

    /// <summary>"absolute" (the relative variants are not implemented).</summary>
    public string PositionEmbeddingType { get; set; } = "absolute";

    protected override void ReadArchitectureFields(ConfigReader r)
    {
        EmbeddingSize = r.Int("embedding_size", 128);
        NumHiddenGroups = r.Int("num_hidden_groups", 1);
        InnerGroupNum = r.Int("inner_group_num", 1);
        ClassifierDropoutProb = ReadFloat(r, "classifier_dropout_prob", 0.1);
        PositionEmbeddingType = r.String("position_embedding_type", "absolute");
        if (!r.Has("bos_token_id")) BosTokenId = 2;
        if (!r.Has("eos_token_id")) EosTokenId = 3;
    }

    protected override void WriteArchitectureFields(JsonObject json)
    {
        json["embedding_size"] = EmbeddingSize;
        json["num_hidden_groups"] = NumHiddenGroups;
        json["inner_group_num"] = InnerGroupNum;
        WriteFloat(json, "classifier_dropout_prob", ClassifierDropoutProb);
        json["position_embedding_type"] = PositionEmbeddingType;
    }

    protected override void ValidateArchitecture()
    {
        Positive(EmbeddingSize, "embedding_size");
        Positive(NumHiddenGroups, "num_hidden_groups");
        Positive(InnerGroupNum, "inner_group_num");
        Positive(TypeVocabSize, "type_vocab_size");
        RequireHeadsDivideHidden();
        RequireAbsolutePositions(PositionEmbeddingType);
    }

    /// <summary>The group layer <paramref name="layer"/> runs: transformers' int(i / (num_hidden_layers / num_hidden_groups)), in floating point.</summary>
    public int GroupOfLayer(int layer) => (int)(layer / ((double)NumHiddenLayers / NumHiddenGroups));
}

/// <summary>
/// transformers' AlbertLayer under its checkpoint names: the post-LN block with attention.query/key/value,
/// attention.dense, attention.LayerNorm, ffn, ffn_output and full_layer_layer_norm (created first, as
/// named_parameters() lists it).
/// </summary>
public static class AlbertLayer
{
    public static PostNormEncoderLayer Create(AlbertConfig c, ParameterBuilder b)
    {
        double std = c.InitializerRange;
        int h = c.HiddenSize;
        var outputNorm = new LayerNorm(b.Prefix("full_layer_layer_norm"), h, c.LayerNormEps);
        var attention = b.Prefix("attention");
        var query = new Linear(attention.Prefix("query"), h, h, std);
        var key = new Linear(attention.Prefix("key"), h, h, std);
        var value = new Linear(attention.Prefix("value"), h, h, std);
        var dense = new Linear(attention.Prefix("dense"), h, h, std);
        var attentionNorm = new LayerNorm(attention.Prefix("LayerNorm"), h, c.LayerNormEps);
        var ffn = new Linear(b.Prefix("ffn"), h, c.IntermediateSize, std);
        var ffnOutput = new Linear(b.Prefix("ffn_output"), c.IntermediateSize, h, std);
        return new PostNormEncoderLayer(query, key, value, dense, attentionNorm, ffn, c.Activation, ffnOutput, outputNorm, c.NumAttentionHeads);
    }
}

/// <summary>transformers' AlbertModel: embeddings, embedding_hidden_mapping_in, the shared layer groups, optional pooler (dense + tanh).</summary>
public sealed class AlbertModel : EncoderModel
{
    private readonly AlbertConfig config;
    private readonly PostNormEncoderLayer[] layerSchedule;
    private readonly PostNormEncoder encoder;

    public AlbertModel(AlbertConfig config, ParameterBuilder builder, bool addPoolingLayer = true)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        double std = config.InitializerRange;
        Embeddings = new WordPositionTypeEmbeddings(builder.Prefix("embeddings"), config.VocabSize, config.MaxPositionEmbeddings,
            config.TypeVocabSize, config.EmbeddingSize, config.LayerNormEps, std, config.PadTokenId, dropout: 0);
        var encoderBuilder = builder.Prefix("encoder");
        EmbeddingHiddenMappingIn = new Linear(encoderBuilder.Prefix("embedding_hidden_mapping_in"), config.EmbeddingSize, config.HiddenSize, std);
        var groups = new List<IReadOnlyList<PostNormEncoderLayer>>();
        var groupBuilder = encoderBuilder.Prefix("albert_layer_groups");
        for (int g = 0; g < config.NumHiddenGroups; g++)
        {
            var layersBuilder = groupBuilder.Prefix(g).Prefix("albert_layers");
            groups.Add(Enumerable.Range(0, config.InnerGroupNum).Select(j => AlbertLayer.Create(config, layersBuilder.Prefix(j))).ToList());
        }
        LayerGroups = groups;
        // Each of the num_hidden_layers passes runs every inner layer of its group, reusing the group's weights.
        layerSchedule = Enumerable.Range(0, config.NumHiddenLayers).SelectMany(i => groups[config.GroupOfLayer(i)]).ToArray();
        if (addPoolingLayer) Pooler = new Linear(builder.Prefix("pooler"), config.HiddenSize, config.HiddenSize, std);
        encoder = new PostNormEncoder(Embeddings, EmbeddingHiddenMappingIn, layerSchedule, config.HiddenSize, config.NumAttentionHeads,
            config.IntermediateSize, layersPerHiddenState: config.InnerGroupNum);
    }

    public new AlbertConfig Config => config;

    public WordPositionTypeEmbeddings Embeddings { get; }

    /// <summary>encoder.embedding_hidden_mapping_in (embedding_size → hidden_size).</summary>
    public Linear EmbeddingHiddenMappingIn { get; }

    /// <summary>encoder.albert_layer_groups[g].albert_layers[j].</summary>
    public IReadOnlyList<IReadOnlyList<PostNormEncoderLayer>> LayerGroups { get; }

    /// <summary>The layers in the order a forward pass applies them (shared weights appear more than once).</summary>
    public IReadOnlyList<PostNormEncoderLayer> LayerSchedule => layerSchedule;

    /// <summary>pooler (dense before tanh); null when built without a pooling layer.</summary>
    public Linear? Pooler { get; }

    private protected override Linear? PoolerDense => Pooler;

    public static AlbertModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, AlbertConfig.Type, nameof(AlbertModel),
            (_, c, b) => new AlbertModel((AlbertConfig)c, b, options?.AddPoolingLayer ?? true), name => name.StartsWith("pooler.", StringComparison.Ordinal));

    public static AlbertModel FromConfig(AlbertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        return encoder.Run(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, outputAttentions, outputHiddenStates,
            firstTokensOnly, precision);
    }
}

/// <summary>transformers' AlbertForSequenceClassification: ALBERT with its pooler, dropout (inactive at inference) and a linear classifier.</summary>
public sealed class AlbertForSequenceClassification : SequenceClassificationModel
{
    public AlbertForSequenceClassification(AlbertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        Albert = new AlbertModel(config, builder.Prefix("albert"));
        Classifier = new Linear(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels, config.InitializerRange);
        Head = new FirstTokenClassificationHead(Albert.Pooler!, ActivationFunction.Tanh, Classifier, inputDropout: 0, hiddenDropout: 0);
    }

    public AlbertModel Albert { get; }

    public Linear Classifier { get; }

    public new AlbertConfig Config => Albert.Config;

    private protected override EncoderModel BaseEncoder => Albert;

    private protected override FirstTokenClassificationHead Head { get; }

    public static AlbertForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, AlbertConfig.Type, nameof(AlbertForSequenceClassification),
            (_, c, b) => new AlbertForSequenceClassification((AlbertConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static AlbertForSequenceClassification FromConfig(AlbertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>ALBERT's entry in <see cref="ModelRegistry"/>.</summary>
public static class AlbertArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = AlbertConfig.Type,
        BaseModelPrefix = "albert",
        CreateConfig = () => new AlbertConfig(),
        CreateBaseModel = (config, builder) => new AlbertModel(As(config), builder),
        CreateBaseModelWithoutPooler = (config, builder) => new AlbertModel(As(config), builder, addPoolingLayer: false),
        CreateForSequenceClassification = (config, builder) => new AlbertForSequenceClassification(As(config), builder),
    };

    private static AlbertConfig As(PretrainedConfig config) =>
        config as AlbertConfig ?? throw new ArgumentException($"An ALBERT model needs an AlbertConfig, got {config.GetType().Name}.", nameof(config));
}
