using Sharpformers.Models.Configuration;
using Sharpformers.Nn;

namespace Sharpformers.Models.DistilBert;

/// <summary>
/// transformers' DistilBertForMaskedLM: DistilBERT → vocab_transform → activation (config.activation)
/// → vocab_layer_norm (eps 1e-12) → vocab_projector, whose weight is
/// distilbert.embeddings.word_embeddings.weight (tied) and whose bias is vocab_projector.bias. As
/// transformers' safetensors files, the tied weight is saved once, under the embeddings' name; a
/// checkpoint that also holds vocab_projector.weight (older .bin files) loads with it ignored.
/// </summary>
public sealed class DistilBertForMaskedLM : MaskedLMModel
{
    public DistilBertForMaskedLM(DistilBertConfig config, ParameterBuilder builder)
        : base(config, builder)
    {
        DistilBert = new DistilBertModel(config, builder.Prefix("distilbert"));
        VocabTransform = new Linear(builder.Prefix("vocab_transform"), config.Dim, config.Dim, config.InitializerRange);
        VocabLayerNorm = new LayerNorm(builder.Prefix("vocab_layer_norm"), config.Dim, DistilBertConfig.LayerNormEps);
        var projector = builder.Prefix("vocab_projector");
        VocabProjector = new Linear(DistilBert.Embeddings.WordEmbeddings.Weight, projector.Get("bias", [config.VocabSize], ParameterInit.Zeros));
        projector.DeclareBuffer("weight");
        head = new MaskedLMHead(VocabTransform, config.ActivationFunction, VocabLayerNorm, VocabProjector);
    }

    private readonly MaskedLMHead head;

    public DistilBertModel DistilBert { get; }

    public Linear VocabTransform { get; }

    public LayerNorm VocabLayerNorm { get; }

    /// <summary>The decoder onto the vocabulary; its weight is the word-embedding parameter itself.</summary>
    public Linear VocabProjector { get; }

    public new DistilBertConfig Config => DistilBert.Config;

    private protected override EncoderModel BaseEncoder => DistilBert;

    private protected override MaskedLMHead Head => head;

    public static DistilBertForMaskedLM FromPretrained(string path, FromPretrainedOptions? options = null) =>
        PretrainedLoader.Load(path, options, modelUsesPrefix: true, DistilBertConfig.Type, nameof(DistilBertForMaskedLM),
            (_, c, b) => new DistilBertForMaskedLM((DistilBertConfig)c, b), AutoModelForMaskedLM.IsHeadParameter);

    /// <summary>A randomly initialised model (HF's from_config), seeded.</summary>
    public static DistilBertForMaskedLM FromConfig(DistilBertConfig config, int? seed = null) => new(config, ParameterBuilder.ForInitialization(seed));
}
