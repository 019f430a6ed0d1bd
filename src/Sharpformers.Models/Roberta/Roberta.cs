using System.Text.Json.Nodes;
using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Nn.Inference;

namespace Sharpformers.Models.Roberta;

// RoBERTa as transformers' modeling_roberta.py has it: BERT's encoder under BERT's checkpoint names,
// position ids counted from padding_idx + 1 over the non-padding tokens
// (create_position_ids_from_input_ids), a pooler the classification model leaves out, and the
// dense → tanh → out_proj head on <s>. XLM-RoBERTa (XlmRoberta.cs) is the same model under its own
// names, so the classes here are open to it.

/// <summary>transformers' RobertaConfig. Defaults are roberta-base's.</summary>
public class RobertaConfig : TransformerEncoderConfig
{
    public const string Type = "roberta";

    private static readonly EncoderConfigDefaults RobertaDefaults = new()
    {
        VocabSize = 50265,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
        PadTokenId = 1,
    };

    public RobertaConfig()
    {
        BosTokenId = 0;
        EosTokenId = 2;
    }

    public override string ModelType => Type;

    protected override EncoderConfigDefaults Defaults => RobertaDefaults;

    /// <summary>"absolute" (the relative variants are not implemented).</summary>
    public string PositionEmbeddingType { get; set; } = "absolute";

    public bool UseCache { get; set; } = true;

    /// <summary>Dropout in the classification head; null means <see cref="TransformerEncoderConfig.HiddenDropoutProb"/>.</summary>
    public double? ClassifierDropout { get; set; }

    /// <summary>
    /// How many tokens fit: positions start at pad_token_id + 1, so the table's first pad_token_id + 1
    /// rows are never a real token's.
    /// </summary>
    public int MaxSequenceLength => MaxPositionEmbeddings - (PadTokenId ?? 0) - 1;

    protected override void ReadArchitectureFields(ConfigReader r)
    {
        PositionEmbeddingType = r.String("position_embedding_type", "absolute");
        UseCache = r.Bool("use_cache", true);
        ClassifierDropout = ReadNullableFloat(r, "classifier_dropout", null);
        if (!r.Has("bos_token_id")) BosTokenId = 0;
        if (!r.Has("eos_token_id")) EosTokenId = 2;
        if (r.Has("is_decoder") && r.Bool("is_decoder", false)) throw r.Error("is_decoder", $"is true; only {ModelType} as an encoder is supported");
        if (r.Has("add_cross_attention") && r.Bool("add_cross_attention", false)) throw r.Error("add_cross_attention", "is true; cross-attention is not supported");
    }

    protected override void WriteArchitectureFields(JsonObject json)
    {
        json["position_embedding_type"] = PositionEmbeddingType;
        json["use_cache"] = UseCache;
        WriteFloat(json, "classifier_dropout", ClassifierDropout);
    }

    protected override void ValidateArchitecture()
    {
        Positive(TypeVocabSize, "type_vocab_size");
        RequireHeadsDivideHidden();
        RequireAbsolutePositions(PositionEmbeddingType);
        if (PadTokenId is null)
        {
            throw Invalid($"pad_token_id is null, but {ModelType} numbers its positions from pad_token_id + 1 (create_position_ids_from_input_ids); set it (roberta-base uses 1)");
        }
        if (MaxSequenceLength < 1)
        {
            throw Invalid($"max_position_embeddings {MaxPositionEmbeddings} leaves no position for a token: positions start after pad_token_id {PadTokenId}");
        }
    }
}

/// <summary>transformers' RobertaModel: embeddings, BERT's encoder, optional pooler (dense + tanh over &lt;s&gt;).</summary>
public class RobertaModel : EncoderModel
{
    private readonly RobertaConfig config;
    private readonly PostNormEncoder encoder;

    /// <param name="addPoolingLayer">False as inside RobertaForSequenceClassification (and add_pooling_layer=False).</param>
    public RobertaModel(RobertaConfig config, ParameterBuilder builder, bool addPoolingLayer = true)
        : base(config, builder)
    {
        config.Validate();
        this.config = config;
        double std = config.InitializerRange;
        Embeddings = new WordPositionTypeEmbeddings(builder.Prefix("embeddings"), config.VocabSize, config.MaxPositionEmbeddings,
            config.TypeVocabSize, config.HiddenSize, config.LayerNormEps, std, config.PadTokenId, dropout: 0, positionsHavePaddingRow: true);
        Layers = BertStyleLayer.CreateStack(builder.Prefix("encoder"), config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize,
            config.NumAttentionHeads, config.Activation, config.LayerNormEps, std);
        if (addPoolingLayer) Pooler = new Linear(builder.Prefix("pooler").Prefix("dense"), config.HiddenSize, config.HiddenSize, std);
        encoder = new PostNormEncoder(Embeddings, null, Layers, config.HiddenSize, config.NumAttentionHeads, config.IntermediateSize);
    }

    public new RobertaConfig Config => config;

    public WordPositionTypeEmbeddings Embeddings { get; }

    public IReadOnlyList<PostNormEncoderLayer> Layers { get; }

    /// <summary>pooler.dense; null when built without a pooling layer.</summary>
    public Linear? Pooler { get; }

    private protected override Linear? PoolerDense => Pooler;

    public static RobertaModel FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: false, RobertaConfig.Type, nameof(RobertaModel),
            (_, c, b) => new RobertaModel((RobertaConfig)c, b, options?.AddPoolingLayer ?? true), IsPoolerParameter);

    public static RobertaModel FromConfig(RobertaConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));

    /// <summary>
    /// transformers' create_position_ids_from_input_ids: each sequence's non-padding tokens are
    /// numbered padding_idx + 1, padding_idx + 2, …; padding tokens get padding_idx. (B, T) row-major.
    /// </summary>
    public static int[] CreatePositionIdsFromInputIds(ReadOnlySpan<int> inputIds, int seq, int paddingIdx)
    {
        if (seq < 1 || inputIds.Length % seq != 0)
        {
            throw new ArgumentException($"input_ids has {inputIds.Length} ids, not a whole number of sequences of {seq}.", nameof(inputIds));
        }
        var positions = new int[inputIds.Length];
        for (int start = 0; start < inputIds.Length; start += seq)
        {
            int count = 0;
            for (int t = start; t < start + seq; t++)
            {
                if (inputIds[t] == paddingIdx)
                {
                    positions[t] = paddingIdx;
                }
                else
                {
                    count++;
                    positions[t] = count + paddingIdx;
                }
            }
        }
        return positions;
    }

    internal override EncoderPass Run(ModelInputs inputs, ActivationArena arena, bool outputAttentions, bool outputHiddenStates,
        bool firstTokensOnly, InferencePrecision precision)
    {
        var (batch, seq) = Validate(inputs);
        return encoder.Run(inputs, batch, seq, PositionIds(inputs, seq), arena, outputAttentions, outputHiddenStates,
            firstTokensOnly, precision);
    }

    private (int Batch, int Seq) Validate(ModelInputs inputs)
    {
        int maxLength = config.MaxSequenceLength;
        return inputs.Validate(config.VocabSize, maxLength, config.TypeVocabSize, config.MaxPositionEmbeddings,
            $"room for {maxLength} tokens (max_position_embeddings = {config.MaxPositionEmbeddings} in config.json, less the " +
            $"pad_token_id + 1 = {config.PadTokenId!.Value + 1} positions {config.ModelType} reserves)");
    }

    /// <summary>Explicit position ids, else <see cref="CreatePositionIdsFromInputIds"/>.</summary>
    private int[] PositionIds(ModelInputs inputs, int seq) =>
        inputs.PositionIds?.ToArray() ?? CreatePositionIdsFromInputIds(inputs.InputIds.Span, seq, config.PadTokenId!.Value);

    private protected static bool IsPoolerParameter(string name) => name.StartsWith("pooler.", StringComparison.Ordinal);
}

/// <summary>
/// transformers' RobertaForSequenceClassification: RoBERTa without its pooler and the classification
/// head (dense → tanh → out_proj) on the &lt;s&gt; token's hidden state.
/// </summary>
public class RobertaForSequenceClassification : SequenceClassificationModel
{
    public RobertaForSequenceClassification(RobertaConfig config, ParameterBuilder builder)
        : this(config, builder, (c, b) => new RobertaModel(c, b, addPoolingLayer: false))
    {
    }

    /// <summary>For XLM-RoBERTa: the same head over its own base class.</summary>
    private protected RobertaForSequenceClassification(RobertaConfig config, ParameterBuilder builder,
        Func<RobertaConfig, ParameterBuilder, RobertaModel> createBase)
        : base(config, builder)
    {
        Roberta = createBase(config, builder.Prefix("roberta"));
        Classifier = new FirstTokenClassificationHead(builder.Prefix("classifier"), config.HiddenSize, config.NumLabels,
            ActivationFunction.Tanh, config.InitializerRange);
    }

    public RobertaModel Roberta { get; }

    public FirstTokenClassificationHead Classifier { get; }

    public new RobertaConfig Config => Roberta.Config;

    private protected override EncoderModel BaseEncoder => Roberta;

    private protected override FirstTokenClassificationHead Head => Classifier;

    public static RobertaForSequenceClassification FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, RobertaConfig.Type, nameof(RobertaForSequenceClassification),
            (_, c, b) => new RobertaForSequenceClassification((RobertaConfig)c, b), AutoModelForSequenceClassification.IsHeadParameter);

    public static RobertaForSequenceClassification FromConfig(RobertaConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}

/// <summary>RoBERTa's entry in <see cref="ModelRegistry"/>.</summary>
public static class RobertaArchitecture
{
    public static ModelArchitecture Definition { get; } = new()
    {
        ModelType = RobertaConfig.Type,
        BaseModelPrefix = "roberta",
        CreateConfig = () => new RobertaConfig(),
        CreateBaseModel = (config, builder) => new RobertaModel(As(config), builder),
        CreateBaseModelWithoutPooler = (config, builder) => new RobertaModel(As(config), builder, addPoolingLayer: false),
        CreateForSequenceClassification = (config, builder) => new RobertaForSequenceClassification(As(config), builder),
    };

    private static RobertaConfig As(PretrainedConfig config) =>
        config as RobertaConfig ?? throw new ArgumentException($"A RoBERTa model needs a RobertaConfig, got {config.GetType().Name}.", nameof(config));
}
