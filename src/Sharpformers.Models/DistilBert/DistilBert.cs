using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models.DistilBert;

// DistilBERT as transformers' modeling_distilbert.py has it: config mapping, embeddings (learned or
// sinusoidal positions), post-LN transformer blocks, and the pre_classifier → ReLU → classifier head.

/// <summary>transformers' DistilBertConfig. Defaults are distilbert-base-uncased's.</summary>
public sealed class DistilBertConfig : PretrainedConfig
{
    public const string Type = "distilbert";

    /// <summary>DistilBERT's LayerNorms use eps 1e-12 (hard-coded in modeling_distilbert.py, not a config field).</summary>
    public const double LayerNormEps = 1e-12;

    public DistilBertConfig()
    {
        PadTokenId = DefaultPadTokenId;
    }

    public override string ModelType => Type;

    public int VocabSize { get; set; } = 30522;

    public int MaxPositionEmbeddings { get; set; } = 512;

    /// <summary>Fixed sinusoidal position embeddings instead of learned ones.</summary>
    public bool SinusoidalPosEmbds { get; set; }

    public int NLayers { get; set; } = 6;

    public int NHeads { get; set; } = 12;

    public int Dim { get; set; } = 768;

    public int HiddenDim { get; set; } = 3072;

    public double Dropout { get; set; } = 0.1;

    public double AttentionDropout { get; set; } = 0.1;

    /// <summary>The FFN activation, "gelu" or "relu" in released models.</summary>
    public string Activation { get; set; } = "gelu";

    public override double InitializerRange { get; set; } = 0.02;

    public double QaDropout { get; set; } = 0.1;

    public double SeqClassifDropout { get; set; } = 0.2;

    // HF's attribute_map: hidden_size → dim, num_attention_heads → n_heads, num_hidden_layers → n_layers.
    public override int HiddenSize { get => Dim; set => Dim = value; }

    public override int NumAttentionHeads { get => NHeads; set => NHeads = value; }

    public override int NumHiddenLayers { get => NLayers; set => NLayers = value; }

    protected override int? DefaultPadTokenId => 0;

    public ActivationFunction ActivationFunction =>
        ActivationFunctions.TryParse(Activation, out var f) ? f : throw Invalid($"activation '{Activation}' is not supported (supported: {string.Join(", ", ActivationFunctions.Names)})");

    protected override void ReadModelFields(ConfigReader r)
    {
        VocabSize = r.RequiredInt("vocab_size");
        MaxPositionEmbeddings = r.Int("max_position_embeddings", 512);
        SinusoidalPosEmbds = r.Bool("sinusoidal_pos_embds", false);
        NLayers = r.RequiredInt("n_layers");
        NHeads = r.RequiredInt("n_heads");
        Dim = r.RequiredInt("dim");
        HiddenDim = r.RequiredInt("hidden_dim");
        Dropout = r.Double("dropout", 0.1);
        AttentionDropout = r.Double("attention_dropout", 0.1);
        Activation = r.String("activation", "gelu");
        InitializerRange = r.Double("initializer_range", 0.02);
        QaDropout = r.Double("qa_dropout", 0.1);
        SeqClassifDropout = r.Double("seq_classif_dropout", 0.2);
    }

    protected override void WriteModelFields(JsonObject json)
    {
        json["vocab_size"] = VocabSize;
        json["max_position_embeddings"] = MaxPositionEmbeddings;
        json["sinusoidal_pos_embds"] = SinusoidalPosEmbds;
        json["n_layers"] = NLayers;
        json["n_heads"] = NHeads;
        json["dim"] = Dim;
        json["hidden_dim"] = HiddenDim;
        json["dropout"] = Dropout;
        json["attention_dropout"] = AttentionDropout;
        json["activation"] = Activation;
        json["initializer_range"] = InitializerRange;
        json["qa_dropout"] = QaDropout;
        json["seq_classif_dropout"] = SeqClassifDropout;
        json["pad_token_id"] = PadTokenId;
    }

    public override void Validate()
    {
        Positive(VocabSize, "vocab_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        Positive(NLayers, "n_layers");
        Positive(NHeads, "n_heads");
        Positive(Dim, "dim");
        Positive(HiddenDim, "hidden_dim");
        if (Dim % NHeads != 0) throw Invalid($"dim {Dim} is not a multiple of n_heads {NHeads}");
        if (PadTokenId is int pad && (pad < 0 || pad >= VocabSize)) throw Invalid($"pad_token_id {pad} is outside the vocabulary of {VocabSize}");
        _ = ActivationFunction;
    }

    private void Positive(int value, string name)
    {
        if (value < 1) throw Invalid($"{name} must be at least 1, got {value}");
    }

    private InvalidDataException Invalid(string problem) => new($"{SourcePath ?? "config"}: {problem}.");
}

/// <summary>Word + position embeddings, summed, layer-normalised and (training) dropped out (DistilBERT's Embeddings).</summary>
public sealed class DistilBertEmbeddings : IEncoderEmbeddings
{
    public DistilBertEmbeddings(DistilBertConfig config, ParameterBuilder builder)
    {
        double std = config.InitializerRange;
        WordEmbeddings = new Embedding(builder.Prefix("word_embeddings"), config.VocabSize, config.Dim,
            ParameterInit.NormalWithZeroRow(std, config.PadTokenId), paddingIdx: config.PadTokenId);
        PositionEmbeddings = config.SinusoidalPosEmbds
            ? new Embedding(builder.Prefix("position_embeddings"), config.MaxPositionEmbeddings, config.Dim,
                ParameterInit.Custom((values, shape) => SinusoidalTable(values, shape[0], shape[1])), requiresGrad: false)
            : new Embedding(builder.Prefix("position_embeddings"), config.MaxPositionEmbeddings, config.Dim, ParameterInit.Normal(std));
        LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), config.Dim, DistilBertConfig.LayerNormEps);
        Dropout = new Dropout(config.Dropout);
        builder.DeclareBuffer("position_ids");
    }

    /// <summary>dim, the width of the embeddings.</summary>
    public int Dim => WordEmbeddings.Dim;

    public Embedding WordEmbeddings { get; }

    /// <summary>Learned, or the frozen sinusoidal table (no gradient) with sinusoidal_pos_embds.</summary>
    public Embedding PositionEmbeddings { get; }

    public LayerNorm LayerNorm { get; }

    /// <summary>config.dropout after the LayerNorm (training only).</summary>
    public Dropout Dropout { get; }

    /// <summary>sum (B, T, C) = word[ids] + position[positions]; output (B, T, C) = LN(sum). output may be sum.</summary>
    public void Forward(ModelInputs inputs, int batch, int seq, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd) =>
        Forward(inputs.InputIds.Span, EncoderRunner.PositionIds(inputs, batch, seq), sum, output, mean, rstd);

    private void Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> positionIds, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd)
    {
        WordEmbeddings.Forward(inputIds, sum.Span);
        PositionEmbeddings.ForwardAdd(positionIds, sum.Span);
        LayerNorm.Forward(sum, output, mean, rstd);
    }

    // DistilBERT has no segments: token_type_ids (which BERT tokenizers return) are ignored.
    void IEncoderEmbeddings.Forward(ModelInputs inputs, ReadOnlySpan<int> positionIds, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd) =>
        Forward(inputs.InputIds.Span, positionIds, sum, output, mean, rstd);

    /// <summary>Backward from d(sum) (B, T, C): scatter-adds into the word table (skipping the padding row) and a learned position table.</summary>
    void IEncoderEmbeddings.Backward(ModelInputs inputs, ReadOnlyMemory<int> positionIds, ReadOnlyMemory<float> dSum, TrainingWorkspace workspace)
    {
        WordEmbeddings.Backward(inputs.InputIds.Memory, dSum);
        PositionEmbeddings.Backward(positionIds, dSum); // a frozen sinusoidal table has no gradient buffer: nothing happens
    }

    /// <summary>
    /// create_sinusoidal_embeddings: position p, column j → p / 10000^(2⌊j/2⌋/dim), sine in even
    /// columns, cosine in odd ones, computed in double and rounded once, as numpy does it there.
    /// </summary>
    public static void SinusoidalTable(Span<float> table, int positions, int dim)
    {
        for (int p = 0; p < positions; p++)
        {
            for (int j = 0; j < dim; j++)
            {
                double angle = p / Math.Pow(10000, 2.0 * (j / 2) / dim);
                table[p * dim + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        }
    }
}

/// <summary>transformers' DistilBertModel: embeddings and the transformer blocks (no pooler).</summary>
public sealed class DistilBertModel : EncoderModel
{
    private readonly DistilBertConfig config;
    private readonly PostNormEncoder encoder;

    public DistilBertModel(DistilBertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        Embeddings = new DistilBertEmbeddings(config, builder.Prefix("embeddings"));
        var layers = new List<PostNormEncoderLayer>();
        var layerBuilder = builder.Prefix("transformer").Prefix("layer");
        for (int i = 0; i < config.NLayers; i++) layers.Add(CreateLayer(config, layerBuilder.Prefix(i)));
        Layers = layers;
        encoder = new PostNormEncoder(Embeddings, null, Layers, config.Dim, config.NHeads, config.HiddenDim);
    }

    public new DistilBertConfig Config => config;

    public DistilBertEmbeddings Embeddings { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    public static DistilBertModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, DistilBertConfig.Type, nameof(DistilBertModel),
            (_, c, b) => new DistilBertModel((DistilBertConfig)c, b), _ => false);

    public static DistilBertModel FromConfig(DistilBertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        var (batch, seq) = Validate(inputs);
        return encoder.Run(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, outputAttentions, outputHiddenStates,
            firstTokensOnly, precision);
    }

    internal override PostNormTrainingPass TrainForward(ModelInputs inputs, ActivationArena arena, SeededRandom? random)
    {
        var (batch, seq) = Validate(inputs);
        return encoder.TrainForward(inputs, batch, seq, EncoderRunner.PositionIds(inputs, batch, seq), arena, random);
    }

    internal override void Backward(EncoderTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace) =>
        encoder.Backward((PostNormTrainingPass)pass, dLastHidden, workspace);

    // DistilBERT has no segments: token_type_ids (which BERT tokenizers return) are ignored.
    private (int Batch, int Seq) Validate(ModelInputs inputs) => inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, int.MaxValue);

    private static PostNormEncoderLayer CreateLayer(DistilBertConfig c, ParameterBuilder b)
    {
        double std = c.InitializerRange;
        var attention = b.Prefix("attention");
        return new PostNormEncoderLayer(
            query: new Linear(attention.Prefix("q_lin"), c.Dim, c.Dim, std),
            key: new Linear(attention.Prefix("k_lin"), c.Dim, c.Dim, std),
            value: new Linear(attention.Prefix("v_lin"), c.Dim, c.Dim, std),
            attentionOutput: new Linear(attention.Prefix("out_lin"), c.Dim, c.Dim, std),
            attentionNorm: new LayerNorm(b.Prefix("sa_layer_norm"), c.Dim, DistilBertConfig.LayerNormEps),
            intermediate: new Linear(b.Prefix("ffn").Prefix("lin1"), c.Dim, c.HiddenDim, std),
            activation: c.ActivationFunction,
            output: new Linear(b.Prefix("ffn").Prefix("lin2"), c.HiddenDim, c.Dim, std),
            outputNorm: new LayerNorm(b.Prefix("output_layer_norm"), c.Dim, DistilBertConfig.LayerNormEps),
            numHeads: c.NHeads,
            // modeling_distilbert.py: dropout on the attention weights and after the FFN; none after out_lin.
            dropout: new EncoderLayerDropout(c.AttentionDropout, 0, c.Dropout));
    }
}

/// <summary>
/// transformers' DistilBertForSequenceClassification: the [CLS] hidden state → pre_classifier →
/// ReLU → dropout (inactive at inference) → classifier.
/// </summary>
public sealed class DistilBertForSequenceClassification : SequenceClassificationModel
{
    public DistilBertForSequenceClassification(DistilBertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        DistilBert = new DistilBertModel(config, builder.Prefix("distilbert"));
        PreClassifier = new Linear(builder.Prefix("pre_classifier"), config.Dim, config.Dim, config.InitializerRange);
        Classifier = new Linear(builder.Prefix("classifier"), config.Dim, config.NumLabels, config.InitializerRange);
        Head = new FirstTokenClassificationHead(PreClassifier, ActivationFunction.Relu, Classifier, inputDropout: 0, hiddenDropout: config.SeqClassifDropout);
    }

    public DistilBertModel DistilBert { get; }

    public Linear PreClassifier { get; }

    /// <summary>seq_classif_dropout between the ReLU and the classifier (training only).</summary>
    public Dropout ClassifierDropout => Head.HiddenDropout;

    public Linear Classifier { get; }

    public override bool SupportsTraining => true;

    public new DistilBertConfig Config => DistilBert.Config;

    private protected override EncoderModel BaseEncoder => DistilBert;

    private protected override FirstTokenClassificationHead Head { get; }

    public static DistilBertForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, DistilBertConfig.Type, nameof(DistilBertForSequenceClassification),
            (_, c, b) => new DistilBertForSequenceClassification((DistilBertConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static DistilBertForSequenceClassification FromConfig(DistilBertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>DistilBERT's entry in <see cref="ModelRegistry"/>.</summary>
public static class DistilBertArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = DistilBertConfig.Type,
        BaseModelPrefix = "distilbert",
        CreateConfig = () => new DistilBertConfig(),
        CreateBaseModel = (config, builder) => new DistilBertModel(As(config), builder),
        CreateForSequenceClassification = (config, builder) => new DistilBertForSequenceClassification(As(config), builder),
        CreateForMaskedLM = (config, builder) => new DistilBertForMaskedLM(As(config), builder),
    };

    private static DistilBertConfig As(PretrainedConfig config) =>
        config as DistilBertConfig ?? throw new ArgumentException($"A DistilBERT model needs a DistilBertConfig, got {config.GetType().Name}.", nameof(config));
}
