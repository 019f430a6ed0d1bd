using System.Text.Json.Nodes;
using Sharpformers.Kernels;
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
public sealed class DistilBertEmbeddings
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

    public Embedding WordEmbeddings { get; }

    /// <summary>Learned, or the frozen sinusoidal table (no gradient) with sinusoidal_pos_embds.</summary>
    public Embedding PositionEmbeddings { get; }

    public LayerNorm LayerNorm { get; }

    /// <summary>config.dropout after the LayerNorm (training only).</summary>
    public Dropout Dropout { get; }

    /// <summary>sum (B, T, C) = word[ids] + position[positions]; output (B, T, C) = LN(sum). output may be sum.</summary>
    public void Forward(ModelInputs inputs, int batch, int seq, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd)
    {
        WordEmbeddings.Forward(inputs.InputIds.Span, sum.Span);
        PositionEmbeddings.ForwardAdd(EncoderRunner.PositionIds(inputs, batch, seq), sum.Span);
        LayerNorm.Forward(sum, output, mean, rstd);
    }

    /// <summary>Backward from d(sum) (B, T, C): scatter-adds into the word table (skipping the padding row) and a learned position table.</summary>
    internal void Backward(EncoderTrainingPass pass, ReadOnlyMemory<float> dSum)
    {
        WordEmbeddings.Backward(pass.Inputs.InputIds.Memory, dSum);
        PositionEmbeddings.Backward(pass.PositionIds, dSum); // a frozen sinusoidal table has no gradient buffer: nothing happens
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
    }

    public new DistilBertConfig Config => config;

    public DistilBertEmbeddings Embeddings { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    public static DistilBertModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, DistilBertConfig.Type, nameof(DistilBertModel),
            (_, c, b) => new DistilBertModel((DistilBertConfig)c, b), _ => false);

    public static DistilBertModel FromConfig(DistilBertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    public override BaseModelOutput Forward(ModelInputs inputs, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = Run(inputs, arena, attentions, hidden);
            return new BaseModelOutput { LastHiddenState = pass.CopyLastHidden(), HiddenStates = pass.HiddenStates, Attentions = pass.Attentions };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }

    /// <param name="firstTokensOnly">The caller reads only hidden[:, 0] (a classification head): padding may be dropped.</param>
    /// <param name="precision">The linear layers' precision; this model's <see cref="PreTrainedModel.InferencePrecision"/> when null.</param>
    internal EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly = false, InferencePrecision? precision = null)
    {
        // DistilBERT has no segments: token_type_ids (which BERT tokenizers return) are ignored.
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, int.MaxValue);
        int c = config.Dim;
        var embeddings = arena.Take(batch * seq * c);                                   // (B, T, C)
        Embeddings.Forward(inputs, batch, seq, embeddings, embeddings, Memory<float>.Empty, Memory<float>.Empty);
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        return EncoderRunner.Run(Layers, arena, embeddings, batch, seq, c, config.NHeads, config.HiddenDim,
            mask, outputAttentions, outputHiddenStates, attentionMask: inputs.AttentionMask is null ? default : inputs.AttentionMask.Span,
            firstTokensOnly: firstTokensOnly, precision: precision ?? InferencePrecision);
    }

    /// <summary>The training forward of embeddings and blocks, everything kept in <paramref name="arena"/> for <see cref="Backward"/>.</summary>
    internal EncoderTrainingPass TrainForward(ModelInputs inputs, ActivationArena arena, SeededRandom? random)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, int.MaxValue);
        int c = config.Dim;
        int btc = batch * seq * c;
        var sum = arena.Take(btc);                                                      // (B, T, C)
        var normOut = arena.Take(btc);                                                  // (B, T, C)
        var mean = arena.Take(batch * seq);                                             // (B, T)
        var rstd = arena.Take(batch * seq);                                             // (B, T)
        Embeddings.Forward(inputs, batch, seq, sum, normOut, mean, rstd);
        var (output, keep) = EncoderTraining.DropoutForTraining(Embeddings.Dropout, normOut, arena, random);
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        var layers = EncoderTraining.ForwardLayers(Layers, arena, output, batch, seq, c, config.NHeads, config.HiddenDim, mask, random);
        return new EncoderTrainingPass
        {
            Batch = batch, Seq = seq, Hidden = c, Inputs = inputs, PositionIds = EncoderRunner.PositionIds(inputs, batch, seq),
            AdditiveMask = mask, EmbeddingSum = sum, EmbeddingNormOut = normOut, EmbeddingMean = mean, EmbeddingRstd = rstd,
            EmbeddingDropoutKeep = keep, EmbeddingOutput = output, Layers = layers,
        };
    }

    /// <summary>Backward from dLastHidden (B, T, C) (used as scratch) through the blocks and the embeddings.</summary>
    internal void Backward(EncoderTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace)
    {
        var arena = workspace.Backward;
        var dEmbeddings = EncoderTraining.BackwardLayers(Layers, pass, dLastHidden, arena);
        var dSum = EncoderTraining.EmbeddingNormBackward(pass, Embeddings.Dropout, Embeddings.LayerNorm, dEmbeddings, arena);
        Embeddings.Backward(pass, dSum);
    }

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
        ClassifierDropout = new Dropout(config.SeqClassifDropout);
        Classifier = new Linear(builder.Prefix("classifier"), config.Dim, config.NumLabels, config.InitializerRange);
    }

    public DistilBertModel DistilBert { get; }

    public Linear PreClassifier { get; }

    /// <summary>seq_classif_dropout between the ReLU and the classifier (training only).</summary>
    public Dropout ClassifierDropout { get; }

    public Linear Classifier { get; }

    public override bool SupportsTraining => true;

    private protected override SequenceClassifierOutput TrainingForwardCore(ModelInputs inputs, ITensor? labels, SeededRandom? dropoutRandom, TrainingWorkspace workspace)
    {
        var arena = workspace.Forward;
        var pass = DistilBert.TrainForward(inputs, arena, dropoutRandom);
        int b = pass.Batch, c = pass.Hidden;
        var first = arena.Take(b * c);                                                 // (B, C) hidden_state[:, 0]
        pass.FirstTokens(first.Span);
        var pre = arena.Take(b * c);                                                   // (B, C) pre_classifier(first)
        PreClassifier.Forward(first.Span, pre.Span);
        var activated = arena.Take(b * c);                                             // (B, C) ReLU
        Activations.Relu(pre.Span, activated.Span);
        var (dropped, keep) = EncoderTraining.DropoutForTraining(ClassifierDropout, activated, arena, dropoutRandom); // (B, C)
        var logits = Tensor.Uninitialized(b, Classifier.OutFeatures);                 // (B, L)
        Classifier.Forward(dropped.Span, logits.Span);
        float? loss = labels is null ? null : SequenceClassificationLoss.Compute(Config, logits, labels);
        workspace.Pending = new ClassificationHeadCache
        {
            Pass = pass, First = first, Activated = activated, PreActivation = pre, DropoutKeep = keep,
            ClassifierInput = dropped, Logits = logits, Labels = labels,
        };
        return new SequenceClassifierOutput { Logits = logits, Loss = loss };
    }

    private protected override void BackwardCore(ClassificationHeadCache cache, float lossScale, TrainingWorkspace workspace)
    {
        var arena = workspace.Backward;
        var pass = cache.Pass;
        int b = pass.Batch, c = pass.Hidden;
        var dLogits = arena.Take(cache.Logits.Length);                                 // (B, L)
        SequenceClassificationLoss.Backward(Config, cache.Logits, cache.Labels!, lossScale, dLogits.Span);
        var dActivated = arena.Take(b * c);                                            // (B, C)
        Classifier.Backward(cache.ClassifierInput, dLogits, dActivated);
        if (!cache.DropoutKeep.IsEmpty) ClassifierDropout.Backward(dActivated, cache.DropoutKeep, dActivated);
        ActivationsBackward.Relu(cache.PreActivation.Span, dActivated.Span, dActivated.Span);   // d(pre_classifier output)
        var dFirst = arena.Take(b * c);                                                // (B, C)
        PreClassifier.Backward(cache.First, dActivated, dFirst);
        var dHidden = arena.Take(b * pass.Seq * c);                                    // (B, T, C)
        pass.FirstTokensBackward(dFirst.Span, dHidden.Span);
        DistilBert.Backward(pass, dHidden, workspace);
    }

    public new DistilBertConfig Config => DistilBert.Config;

    public static DistilBertForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, DistilBertConfig.Type, nameof(DistilBertForSequenceClassification),
            (_, c, b) => new DistilBertForSequenceClassification((DistilBertConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static DistilBertForSequenceClassification FromConfig(DistilBertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    public override SequenceClassifierOutput Forward(ModelInputs inputs, ITensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = DistilBert.Run(inputs, arena, attentions, hidden, firstTokensOnly: true, InferencePrecision);
            var first = arena.Take(pass.Batch * pass.Hidden);                          // (B, C) hidden_state[:, 0]
            pass.FirstTokens(first.Span);
            var pre = arena.Take(pass.Batch * pass.Hidden);                            // (B, C)
            PreClassifier.Forward(first.Span, pre.Span);
            Activations.Relu(pre.Span, pre.Span);
            var logits = Tensor.Uninitialized(pass.Batch, Classifier.OutFeatures);     // (B, L)
            Classifier.Forward(pre.Span, logits.Span);
            return new SequenceClassifierOutput
            {
                Logits = logits,
                Loss = labels is null ? null : SequenceClassificationLoss.Compute(Config, logits, labels),
                HiddenStates = pass.HiddenStates,
                Attentions = pass.Attentions,
            };
        }
        finally
        {
            ReturnArena(arena);
            GC.KeepAlive(this);
        }
    }
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
