using Sharpformers.Models.Configuration;
using Sharpformers.Nn;

namespace Sharpformers.Models.Bert;

/// <summary>
/// transformers' BertForMaskedLM: BERT without its pooler → cls.predictions.transform.dense →
/// hidden_act → cls.predictions.transform.LayerNorm (layer_norm_eps) → decoder, whose weight is
/// bert.embeddings.word_embeddings.weight (tied) and whose bias is cls.predictions.bias (HF's
/// cls.predictions.decoder.bias is the same tensor). Tied tensors are saved once, as transformers'
/// safetensors files; checkpoints holding cls.predictions.decoder.weight/bias too load with those
/// ignored, and the next-sentence head of BertForPreTraining checkpoints is reported unused.
/// </summary>
public sealed class BertForMaskedLM : MaskedLMModel
{
    public BertForMaskedLM(BertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        Bert = new BertModel(config, builder.Prefix("bert"), addPoolingLayer: false);
        var predictions = builder.Prefix("cls").Prefix("predictions");
        // torch lists a module's own parameters before its children's: cls.predictions.bias comes first.
        var bias = predictions.Get("bias", [config.VocabSize], ParameterInit.Zeros);
        var transform = predictions.Prefix("transform");
        TransformDense = new Linear(transform.Prefix("dense"), config.HiddenSize, config.HiddenSize, config.InitializerRange);
        TransformLayerNorm = new LayerNorm(transform.Prefix("LayerNorm"), config.HiddenSize, config.LayerNormEps);
        Decoder = new Linear(Bert.Embeddings.WordEmbeddings.Weight, bias);
        predictions.Prefix("decoder").DeclareBuffer("weight");
        predictions.Prefix("decoder").DeclareBuffer("bias");
        head = new MaskedLMHead(TransformDense, config.Activation, TransformLayerNorm, Decoder);
    }

    private readonly MaskedLMHead head;

    public BertModel Bert { get; }

    public Linear TransformDense { get; }

    public LayerNorm TransformLayerNorm { get; }

    /// <summary>The decoder onto the vocabulary: the word-embedding weight and cls.predictions.bias.</summary>
    public Linear Decoder { get; }

    public new BertConfig Config => Bert.Config;

    private protected override EncoderModel BaseEncoder => Bert;

    private protected override MaskedLMHead Head => head;

    public static BertForMaskedLM FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, BertConfig.Type, nameof(BertForMaskedLM),
            (_, c, b) => new BertForMaskedLM((BertConfig)c, b), AutoModelForMaskedLM.IsHeadParameter);

    /// <summary>A randomly initialised model (HF's from_config), seeded.</summary>
    public static BertForMaskedLM FromConfig(BertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}
