using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models.Bert;

// BERT as transformers' modeling_bert.py has it: config mapping, embeddings, post-LN encoder layers,
// pooler and the sequence-classification head, under the checkpoint names HF uses.

/// <summary>transformers' BertConfig. Defaults are bert-base-uncased's.</summary>
public sealed class BertConfig : PretrainedConfig
{
    public const string Type = "bert";

    public BertConfig()
    {
        PadTokenId = DefaultPadTokenId;
    }

    public override string ModelType => Type;

    public int VocabSize { get; set; } = 30522;

    public override int HiddenSize { get; set; } = 768;

    public override int NumHiddenLayers { get; set; } = 12;

    public override int NumAttentionHeads { get; set; } = 12;

    public int IntermediateSize { get; set; } = 3072;

    /// <summary>"gelu" (exact), "gelu_new", "relu", … (see <see cref="ActivationFunctions.Names"/>).</summary>
    public string HiddenAct { get; set; } = "gelu";

    public double HiddenDropoutProb { get; set; } = 0.1;

    public double AttentionProbsDropoutProb { get; set; } = 0.1;

    public int MaxPositionEmbeddings { get; set; } = 512;

    public int TypeVocabSize { get; set; } = 2;

    public override double InitializerRange { get; set; } = 0.02;

    public double LayerNormEps { get; set; } = 1e-12;

    /// <summary>"absolute" (the relative variants are not implemented).</summary>
    public string PositionEmbeddingType { get; set; } = "absolute";

    public bool UseCache { get; set; } = true;

    /// <summary>Dropout before the classifier; null means <see cref="HiddenDropoutProb"/>.</summary>
    public double? ClassifierDropout { get; set; }

    protected override int? DefaultPadTokenId => 0;

    public ActivationFunction Activation =>
        ActivationFunctions.TryParse(HiddenAct, out var f) ? f : throw Invalid($"hidden_act '{HiddenAct}' is not supported (supported: {string.Join(", ", ActivationFunctions.Names)})");

    protected override void ReadModelFields(ConfigReader r)
    {
        VocabSize = r.RequiredInt("vocab_size");
        HiddenSize = r.RequiredInt("hidden_size");
        NumHiddenLayers = r.RequiredInt("num_hidden_layers");
        NumAttentionHeads = r.RequiredInt("num_attention_heads");
        IntermediateSize = r.RequiredInt("intermediate_size");
        HiddenAct = r.String("hidden_act", "gelu");
        HiddenDropoutProb = r.Double("hidden_dropout_prob", 0.1);
        AttentionProbsDropoutProb = r.Double("attention_probs_dropout_prob", 0.1);
        MaxPositionEmbeddings = r.Int("max_position_embeddings", 512);
        TypeVocabSize = r.Int("type_vocab_size", 2);
        InitializerRange = r.Double("initializer_range", 0.02);
        LayerNormEps = r.Double("layer_norm_eps", 1e-12);
        PositionEmbeddingType = r.String("position_embedding_type", "absolute");
        UseCache = r.Bool("use_cache", true);
        ClassifierDropout = r.NullableDouble("classifier_dropout", null);
        if (r.Has("is_decoder") && r.Bool("is_decoder", false)) throw r.Error("is_decoder", "is true; only BERT as an encoder is supported");
        if (r.Has("add_cross_attention") && r.Bool("add_cross_attention", false)) throw r.Error("add_cross_attention", "is true; cross-attention is not supported");
    }

    protected override void WriteModelFields(JsonObject json)
    {
        json["vocab_size"] = VocabSize;
        json["hidden_size"] = HiddenSize;
        json["num_hidden_layers"] = NumHiddenLayers;
        json["num_attention_heads"] = NumAttentionHeads;
        json["intermediate_size"] = IntermediateSize;
        json["hidden_act"] = HiddenAct;
        json["hidden_dropout_prob"] = HiddenDropoutProb;
        json["attention_probs_dropout_prob"] = AttentionProbsDropoutProb;
        json["max_position_embeddings"] = MaxPositionEmbeddings;
        json["type_vocab_size"] = TypeVocabSize;
        json["initializer_range"] = InitializerRange;
        json["layer_norm_eps"] = LayerNormEps;
        json["position_embedding_type"] = PositionEmbeddingType;
        json["use_cache"] = UseCache;
        json["classifier_dropout"] = ClassifierDropout;
        json["pad_token_id"] = PadTokenId;
    }

    public override void Validate()
    {
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(IntermediateSize, "intermediate_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        Positive(TypeVocabSize, "type_vocab_size");
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw Invalid($"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }
        if (!(LayerNormEps >= 0)) throw Invalid($"layer_norm_eps must be a non-negative number, got {LayerNormEps}");
        if (PositionEmbeddingType != "absolute")
        {
            throw new NotSupportedException($"{SourcePath ?? "config"}: position_embedding_type '{PositionEmbeddingType}' is not supported (supported: absolute).");
        }
        if (PadTokenId is int pad && (pad < 0 || pad >= VocabSize)) throw Invalid($"pad_token_id {pad} is outside the vocabulary of {VocabSize}");
        _ = Activation;
    }

    private void Positive(int value, string name)
    {
        if (value < 1) throw Invalid($"{name} must be at least 1, got {value}");
    }

    private InvalidDataException Invalid(string problem) => new($"{SourcePath ?? "config"}: {problem}.");
}

/// <summary>transformers' BertModel: embeddings, encoder, optional pooler (dense + tanh over [CLS]).</summary>
public sealed class BertModel : EncoderModel
{
    private readonly BertConfig config;
    private readonly PostNormEncoder encoder;

    public BertModel(BertConfig config, ParameterBuilder builder, bool addPoolingLayer = true)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        double std = config.InitializerRange;
        Embeddings = new WordPositionTypeEmbeddings(builder.Prefix("embeddings"), config.VocabSize, config.MaxPositionEmbeddings,
            config.TypeVocabSize, config.HiddenSize, config.LayerNormEps, std, config.PadTokenId, config.HiddenDropoutProb);
        Layers = BertStyleLayer.CreateStack(builder.Prefix("encoder"), config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize,
            config.NumAttentionHeads, config.Activation, config.LayerNormEps, std,
            new EncoderLayerDropout(config.AttentionProbsDropoutProb, config.HiddenDropoutProb, config.HiddenDropoutProb));
        if (addPoolingLayer) Pooler = new Linear(builder.Prefix("pooler").Prefix("dense"), config.HiddenSize, config.HiddenSize, std);
        encoder = new PostNormEncoder(Embeddings, null, Layers, config.HiddenSize, config.NumAttentionHeads, config.IntermediateSize);
    }

    public new BertConfig Config => config;

    /// <summary>BertEmbeddings: word + position + token type, LayerNorm, hidden_dropout_prob.</summary>
    public WordPositionTypeEmbeddings Embeddings { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    /// <summary>pooler.dense; null when built without a pooling layer.</summary>
    public Linear? Pooler { get; }

    private protected override Linear? PoolerDense => Pooler;

    public static BertModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, BertConfig.Type, nameof(BertModel),
            (_, c, b) => new BertModel((BertConfig)c, b, options?.AddPoolingLayer ?? true), name => name.StartsWith("pooler.", StringComparison.Ordinal));

    public static BertModel FromConfig(BertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        return encoder.Run(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, outputAttentions, outputHiddenStates,
            firstTokensOnly, precision);
    }

    internal override PostNormTrainingPass TrainForward(ModelInputs inputs, ActivationArena arena, SeededRandom? random)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        return encoder.TrainForward(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, random);
    }

    internal override void Backward(EncoderTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace) =>
        encoder.Backward((PostNormTrainingPass)pass, dLastHidden, workspace);
}

/// <summary>
/// transformers' BertForSequenceClassification: BERT with its pooler, dropout (inactive at inference)
/// and a linear classifier.
/// </summary>
public sealed class BertForSequenceClassification : SequenceClassificationModel
{
    public BertForSequenceClassification(BertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        Bert = new BertModel(config, builder.Prefix("bert"));
        Classifier = new Linear(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels, config.InitializerRange);
        Head = new FirstTokenClassificationHead(Bert.Pooler!, ActivationFunction.Tanh, Classifier,
            inputDropout: 0, hiddenDropout: config.ClassifierDropout ?? config.HiddenDropoutProb);
    }

    public BertModel Bert { get; }

    /// <summary>classifier_dropout (or hidden_dropout_prob) on the pooled output (training only).</summary>
    public Dropout ClassifierDropout => Head.HiddenDropout;

    public Linear Classifier { get; }

    public override bool SupportsTraining => true;

    public new BertConfig Config => Bert.Config;

    private protected override EncoderModel BaseEncoder => Bert;

    private protected override FirstTokenClassificationHead Head { get; }

    public static BertForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, BertConfig.Type, nameof(BertForSequenceClassification),
            (_, c, b) => new BertForSequenceClassification((BertConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static BertForSequenceClassification FromConfig(BertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>BERT's entry in <see cref="ModelRegistry"/>.</summary>
public static class BertArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = BertConfig.Type,
        BaseModelPrefix = "bert",
        CreateConfig = () => new BertConfig(),
        CreateBaseModel = (config, builder) => new BertModel(As(config), builder),
        CreateBaseModelWithoutPooler = (config, builder) => new BertModel(As(config), builder, addPoolingLayer: false),
        CreateForSequenceClassification = (config, builder) => new BertForSequenceClassification(As(config), builder),
        CreateForMaskedLM = (config, builder) => new BertForMaskedLM(As(config), builder),
    };

    private static BertConfig As(PretrainedConfig config) =>
        config as BertConfig ?? throw new ArgumentException($"A BERT model needs a BertConfig, got {config.GetType().Name}.", nameof(config));
}
