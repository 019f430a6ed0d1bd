using System.Text.Json.Nodes;
using Sharpformers.Kernels;
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

/// <summary>Word + position + token-type embeddings, summed, layer-normalised and (training) dropped out (BertEmbeddings).</summary>
public sealed class BertEmbeddings
{
    public BertEmbeddings(BertConfig config, ParameterBuilder builder)
    {
        double std = config.InitializerRange;
        HiddenSize = config.HiddenSize;
        WordEmbeddings = new Embedding(builder.Prefix("word_embeddings"), config.VocabSize, config.HiddenSize,
            ParameterInit.NormalWithZeroRow(std, config.PadTokenId), paddingIdx: config.PadTokenId);
        PositionEmbeddings = new Embedding(builder.Prefix("position_embeddings"), config.MaxPositionEmbeddings, config.HiddenSize, ParameterInit.Normal(std));
        TokenTypeEmbeddings = new Embedding(builder.Prefix("token_type_embeddings"), config.TypeVocabSize, config.HiddenSize, ParameterInit.Normal(std));
        LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), config.HiddenSize, config.LayerNormEps);
        Dropout = new Dropout(config.HiddenDropoutProb);
        builder.DeclareBuffer("position_ids");
        builder.DeclareBuffer("token_type_ids");
    }

    public int HiddenSize { get; }
    public Embedding WordEmbeddings { get; }
    public Embedding PositionEmbeddings { get; }
    public Embedding TokenTypeEmbeddings { get; }
    public LayerNorm LayerNorm { get; }

    /// <summary>hidden_dropout_prob after the LayerNorm (training only).</summary>
    public Dropout Dropout { get; }

    /// <summary>sum (B, T, C) = word[ids] + token_type[types] + position[positions]; output (B, T, C) = LN(sum). output may be sum.</summary>
    public void Forward(ModelInputs inputs, int batch, int seq, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd)
    {
        var s = sum.Span;
        WordEmbeddings.Forward(inputs.InputIds.Span, s);
        if (inputs.TokenTypeIds is not null)
        {
            TokenTypeEmbeddings.ForwardAdd(inputs.TokenTypeIds.Span, s);
        }
        else
        {
            // No token_type_ids: every token is segment 0.
            Elementwise.AddRowToEachRow(s, TokenTypeEmbeddings.Weight.Value.Span[..HiddenSize], s);
        }
        PositionEmbeddings.ForwardAdd(EncoderRunner.PositionIds(inputs, batch, seq), s);
        LayerNorm.Forward(sum, output, mean, rstd);
    }

    /// <summary>
    /// Backward from d(sum) (B, T, C) (what <see cref="EncoderTraining.EmbeddingNormBackward"/>
    /// leaves): scatter-adds into the three tables (the word table skips the padding row).
    /// </summary>
    internal void Backward(EncoderTrainingPass pass, ReadOnlyMemory<float> dSum, TrainingWorkspace workspace)
    {
        WordEmbeddings.Backward(pass.Inputs.InputIds.Memory, dSum);
        var types = pass.Inputs.TokenTypeIds?.Memory ?? workspace.Zeros(pass.Batch * pass.Seq).AsMemory(0, pass.Batch * pass.Seq);
        TokenTypeEmbeddings.Backward(types, dSum);
        PositionEmbeddings.Backward(pass.PositionIds, dSum);
    }
}

/// <summary>transformers' BertModel: embeddings, encoder, optional pooler (dense + tanh over [CLS]).</summary>
public sealed class BertModel : EncoderModel
{
    private readonly BertConfig config;

    public BertModel(BertConfig config, ParameterBuilder builder, bool addPoolingLayer = true)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        Embeddings = new BertEmbeddings(config, builder.Prefix("embeddings"));
        var layers = new List<PostNormEncoderLayer>();
        var layerBuilder = builder.Prefix("encoder").Prefix("layer");
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(CreateLayer(config, layerBuilder.Prefix(i)));
        Layers = layers;
        if (addPoolingLayer) Pooler = new Linear(builder.Prefix("pooler").Prefix("dense"), config.HiddenSize, config.HiddenSize, config.InitializerRange);
    }

    public new BertConfig Config => config;

    public BertEmbeddings Embeddings { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    /// <summary>pooler.dense; null when built without a pooling layer.</summary>
    public Linear? Pooler { get; }

    public static BertModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, BertConfig.Type, nameof(BertModel),
            (_, c, b) => new BertModel((BertConfig)c, b, options?.AddPoolingLayer ?? true), name => name.StartsWith("pooler.", StringComparison.Ordinal));

    public static BertModel FromConfig(BertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    public override BaseModelOutput Forward(ModelInputs inputs, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = Run(inputs, arena, attentions, hidden);
            Tensor? pooled = null;
            if (Pooler is not null)
            {
                pooled = Tensor.Uninitialized(pass.Batch, pass.Hidden);
                Pool(pass, arena, pooled.Span);
            }
            return new BaseModelOutput
            {
                LastHiddenState = pass.CopyLastHidden(),
                PoolerOutput = pooled,
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

    /// <param name="firstTokensOnly">The caller reads only hidden[:, 0] (pooler and classifier): padding may be dropped.</param>
    /// <param name="precision">The linear layers' precision; this model's <see cref="PreTrainedModel.InferencePrecision"/> when null.</param>
    internal EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly = false, InferencePrecision? precision = null)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        int c = config.HiddenSize;
        var embeddings = arena.Take(batch * seq * c);                                   // (B, T, C)
        Embeddings.Forward(inputs, batch, seq, embeddings, embeddings, Memory<float>.Empty, Memory<float>.Empty);
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        return EncoderRunner.Run(Layers, arena, embeddings, batch, seq, c, config.NumAttentionHeads, config.IntermediateSize,
            mask, outputAttentions, outputHiddenStates, attentionMask: inputs.AttentionMask is null ? default : inputs.AttentionMask.Span,
            firstTokensOnly: firstTokensOnly, precision: precision ?? InferencePrecision);
    }

    /// <summary>The training forward of embeddings and layers, everything kept in <paramref name="arena"/> for <see cref="Backward"/>.</summary>
    internal EncoderTrainingPass TrainForward(ModelInputs inputs, ActivationArena arena, SeededRandom? random)
    {
        var (batch, seq) = inputs.Validate(config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize);
        int c = config.HiddenSize;
        int btc = batch * seq * c;
        var sum = arena.Take(btc);                                                      // (B, T, C)
        var normOut = arena.Take(btc);                                                  // (B, T, C)
        var mean = arena.Take(batch * seq);                                             // (B, T)
        var rstd = arena.Take(batch * seq);                                             // (B, T)
        Embeddings.Forward(inputs, batch, seq, sum, normOut, mean, rstd);
        var (output, keep) = EncoderTraining.DropoutForTraining(Embeddings.Dropout, normOut, arena, random);
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        var layers = EncoderTraining.ForwardLayers(Layers, arena, output, batch, seq, c, config.NumAttentionHeads, config.IntermediateSize, mask, random);
        return new EncoderTrainingPass
        {
            Batch = batch, Seq = seq, Hidden = c, Inputs = inputs, PositionIds = EncoderRunner.PositionIds(inputs, batch, seq),
            AdditiveMask = mask, EmbeddingSum = sum, EmbeddingNormOut = normOut, EmbeddingMean = mean, EmbeddingRstd = rstd,
            EmbeddingDropoutKeep = keep, EmbeddingOutput = output, Layers = layers,
        };
    }

    /// <summary>Backward from dLastHidden (B, T, C) (used as scratch) through the layers and the embeddings.</summary>
    internal void Backward(EncoderTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace)
    {
        var arena = workspace.Backward;
        var dEmbeddings = EncoderTraining.BackwardLayers(Layers, pass, dLastHidden, arena);
        var dSum = EncoderTraining.EmbeddingNormBackward(pass, Embeddings.Dropout, Embeddings.LayerNorm, dEmbeddings, arena);
        Embeddings.Backward(pass, dSum, workspace);
    }

    /// <summary>pooled (B, C) = tanh(dense(hidden[:, 0])).</summary>
    internal void Pool(EncoderPass pass, ActivationArena arena, Span<float> pooled)
    {
        var first = arena.Take(pass.Batch * pass.Hidden);                             // (B, C)
        pass.FirstTokens(first.Span);
        Pooler!.Forward(first.Span, pooled);
        Activations.Tanh(pooled, pooled);
    }

    private static PostNormEncoderLayer CreateLayer(BertConfig c, ParameterBuilder b)
    {
        double std = c.InitializerRange;
        var attention = b.Prefix("attention");
        var self = attention.Prefix("self");
        return new PostNormEncoderLayer(
            query: new Linear(self.Prefix("query"), c.HiddenSize, c.HiddenSize, std),
            key: new Linear(self.Prefix("key"), c.HiddenSize, c.HiddenSize, std),
            value: new Linear(self.Prefix("value"), c.HiddenSize, c.HiddenSize, std),
            attentionOutput: new Linear(attention.Prefix("output").Prefix("dense"), c.HiddenSize, c.HiddenSize, std),
            attentionNorm: new LayerNorm(attention.Prefix("output").Prefix("LayerNorm"), c.HiddenSize, c.LayerNormEps),
            intermediate: new Linear(b.Prefix("intermediate").Prefix("dense"), c.HiddenSize, c.IntermediateSize, std),
            activation: c.Activation,
            output: new Linear(b.Prefix("output").Prefix("dense"), c.IntermediateSize, c.HiddenSize, std),
            outputNorm: new LayerNorm(b.Prefix("output").Prefix("LayerNorm"), c.HiddenSize, c.LayerNormEps),
            numHeads: c.NumAttentionHeads,
            dropout: new EncoderLayerDropout(c.AttentionProbsDropoutProb, c.HiddenDropoutProb, c.HiddenDropoutProb));
    }
}

/// <summary>transformers' BertForSequenceClassification: BERT with its pooler, dropout (inactive at inference) and a linear classifier.</summary>
public sealed class BertForSequenceClassification : SequenceClassificationModel
{
    public BertForSequenceClassification(BertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        Bert = new BertModel(config, builder.Prefix("bert"));
        ClassifierDropout = new Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb);
        Classifier = new Linear(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels, config.InitializerRange);
    }

    public BertModel Bert { get; }

    /// <summary>classifier_dropout (or hidden_dropout_prob) on the pooled output (training only).</summary>
    public Dropout ClassifierDropout { get; }

    public Linear Classifier { get; }

    public override bool SupportsTraining => true;

    private protected override SequenceClassifierOutput TrainingForwardCore(ModelInputs inputs, ITensor? labels, SeededRandom? dropoutRandom, TrainingWorkspace workspace)
    {
        var arena = workspace.Forward;
        var pass = Bert.TrainForward(inputs, arena, dropoutRandom);
        int b = pass.Batch, c = pass.Hidden;
        var first = arena.Take(b * c);                                                 // (B, C) hidden[:, 0]
        pass.FirstTokens(first.Span);
        var pooled = arena.Take(b * c);                                                // (B, C) tanh(dense(first))
        var pooler = Bert.Pooler ?? throw new InvalidOperationException("BertForSequenceClassification needs the pooler.");
        pooler.Forward(first.Span, pooled.Span);
        Activations.Tanh(pooled.Span, pooled.Span);
        var (dropped, keep) = EncoderTraining.DropoutForTraining(ClassifierDropout, pooled, arena, dropoutRandom); // (B, C)
        var logits = Tensor.Uninitialized(b, Classifier.OutFeatures);                 // (B, L)
        Classifier.Forward(dropped.Span, logits.Span);
        float? loss = labels is null ? null : SequenceClassificationLoss.Compute(Config, logits, labels);
        workspace.Pending = new ClassificationHeadCache
        {
            Pass = pass, First = first, Activated = pooled, PreActivation = Memory<float>.Empty, DropoutKeep = keep,
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
        var dPooled = arena.Take(b * c);                                               // (B, C)
        Classifier.Backward(cache.ClassifierInput, dLogits, dPooled);
        if (!cache.DropoutKeep.IsEmpty) ClassifierDropout.Backward(dPooled, cache.DropoutKeep, dPooled);
        ActivationsBackward.TanhFromOutput(cache.Activated.Span, dPooled.Span, dPooled.Span);   // d(dense output)
        var dFirst = arena.Take(b * c);                                                // (B, C)
        Bert.Pooler!.Backward(cache.First, dPooled, dFirst);
        var dHidden = arena.Take(b * pass.Seq * c);                                    // (B, T, C)
        pass.FirstTokensBackward(dFirst.Span, dHidden.Span);
        Bert.Backward(pass, dHidden, workspace);
    }

    public new BertConfig Config => Bert.Config;

    public static BertForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, BertConfig.Type, nameof(BertForSequenceClassification),
            (_, c, b) => new BertForSequenceClassification((BertConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static BertForSequenceClassification FromConfig(BertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    public override SequenceClassifierOutput Forward(ModelInputs inputs, ITensor? labels = null, bool? outputAttentions = null, bool? outputHiddenStates = null)
    {
        var (attentions, hidden) = OutputSwitches(outputAttentions, outputHiddenStates);
        var arena = RentArena();
        try
        {
            var pass = Bert.Run(inputs, arena, attentions, hidden, firstTokensOnly: true, InferencePrecision);
            var pooled = arena.Take(pass.Batch * pass.Hidden);                         // (B, C)
            Bert.Pool(pass, arena, pooled.Span);
            var logits = Tensor.Uninitialized(pass.Batch, Classifier.OutFeatures);     // (B, L)
            Classifier.Forward(pooled.Span, logits.Span);
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
