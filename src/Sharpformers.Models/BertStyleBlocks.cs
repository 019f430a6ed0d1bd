using Sharpformers.Kernels;
using Sharpformers.Nn;

namespace Sharpformers.Models;

/// <summary>
/// Word + absolute position + token-type embeddings, summed and layer-normalised: BertEmbeddings and
/// the classes transformers copied from it (RobertaEmbeddings, ElectraEmbeddings, AlbertEmbeddings).
/// Their width is the config's embedding_size, which ELECTRA and ALBERT make smaller than the hidden
/// size and project up afterwards. Checkpoint names: word_embeddings, position_embeddings,
/// token_type_embeddings, LayerNorm (in that order, as named_parameters() lists them).
/// </summary>
public sealed class WordPositionTypeEmbeddings
{
    /// <param name="builder">The "embeddings" prefix.</param>
    /// <param name="paddingIdx">pad_token_id: the word table's padding row (zero when initialised).</param>
    /// <param name="positionsHavePaddingRow">RoBERTa's position table also has padding_idx = pad_token_id.</param>
    public WordPositionTypeEmbeddings(ParameterBuilder builder, int vocabSize, int maxPositions, int typeVocabSize, int dim,
        double layerNormEps, double initStd, int? paddingIdx, bool positionsHavePaddingRow = false)
    {
        Dim = dim;
        WordEmbeddings = new Embedding(builder.Prefix("word_embeddings"), vocabSize, dim, ParameterInit.NormalWithZeroRow(initStd, paddingIdx));
        PositionEmbeddings = new Embedding(builder.Prefix("position_embeddings"), maxPositions, dim,
            positionsHavePaddingRow ? ParameterInit.NormalWithZeroRow(initStd, paddingIdx) : ParameterInit.Normal(initStd));
        TokenTypeEmbeddings = new Embedding(builder.Prefix("token_type_embeddings"), typeVocabSize, dim, ParameterInit.Normal(initStd));
        LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), dim, layerNormEps);
        builder.DeclareBuffer("position_ids");
        builder.DeclareBuffer("token_type_ids");
    }

    /// <summary>The embedding width (embedding_size, or hidden_size when the model has no projection).</summary>
    public int Dim { get; }

    public Embedding WordEmbeddings { get; }

    public Embedding PositionEmbeddings { get; }

    public Embedding TokenTypeEmbeddings { get; }

    public LayerNorm LayerNorm { get; }

    /// <summary>
    /// sum (N, E) = word[ids] + token_type[types] + position[positions] (that order, as torch adds
    /// them); output (N, E) = LN(sum). Empty <paramref name="tokenTypeIds"/> means segment 0 everywhere
    /// (transformers' zero token_type_ids buffer). output may be sum; mean and rstd (N) are written when
    /// non-empty, for backward.
    /// </summary>
    public void Forward(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> positionIds,
        Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd)
    {
        var s = sum.Span;
        WordEmbeddings.Forward(inputIds, s);
        if (!tokenTypeIds.IsEmpty) TokenTypeEmbeddings.ForwardAdd(tokenTypeIds, s);
        else Elementwise.AddRowToEachRow(s, TokenTypeEmbeddings.Weight.Value.Span[..Dim], s);
        PositionEmbeddings.ForwardAdd(positionIds, s);
        LayerNorm.Forward(sum, output, mean, rstd);
    }
}

/// <summary>
/// The post-LN encoder layer under BERT's checkpoint names (attention.self.query/key/value,
/// attention.output.dense/LayerNorm, intermediate.dense, output.dense/LayerNorm), which RoBERTa,
/// XLM-RoBERTa and ELECTRA keep.
/// </summary>
public static class BertStyleLayer
{
    /// <param name="builder">The layer's prefix ("encoder.layer.3").</param>
    public static PostNormEncoderLayer Create(ParameterBuilder builder, int hidden, int intermediate, int heads,
        ActivationFunction activation, double layerNormEps, double initStd)
    {
        var attention = builder.Prefix("attention");
        var self = attention.Prefix("self");
        return new PostNormEncoderLayer(
            query: new Linear(self.Prefix("query"), hidden, hidden, initStd),
            key: new Linear(self.Prefix("key"), hidden, hidden, initStd),
            value: new Linear(self.Prefix("value"), hidden, hidden, initStd),
            attentionOutput: new Linear(attention.Prefix("output").Prefix("dense"), hidden, hidden, initStd),
            attentionNorm: new LayerNorm(attention.Prefix("output").Prefix("LayerNorm"), hidden, layerNormEps),
            intermediate: new Linear(builder.Prefix("intermediate").Prefix("dense"), hidden, intermediate, initStd),
            activation: activation,
            output: new Linear(builder.Prefix("output").Prefix("dense"), intermediate, hidden, initStd),
            outputNorm: new LayerNorm(builder.Prefix("output").Prefix("LayerNorm"), hidden, layerNormEps),
            numHeads: heads);
    }

    /// <summary>num_hidden_layers such layers under "encoder.layer.{i}".</summary>
    public static IReadOnlyList<PostNormEncoderLayer> CreateStack(ParameterBuilder encoder, int count, int hidden, int intermediate, int heads,
        ActivationFunction activation, double layerNormEps, double initStd)
    {
        var layers = new List<PostNormEncoderLayer>(count);
        var layerBuilder = encoder.Prefix("layer");
        for (int i = 0; i < count; i++) layers.Add(Create(layerBuilder.Prefix(i), hidden, intermediate, heads, activation, layerNormEps, initStd));
        return layers;
    }
}

/// <summary>
/// The sentence-classification head RoBERTa, XLM-RoBERTa and ELECTRA share: the first token's hidden
/// state → dense → activation (tanh for RoBERTa, GELU for ELECTRA) → dropout (inactive at inference)
/// → out_proj. Checkpoint names: classifier.dense, classifier.out_proj.
/// </summary>
public sealed class FirstTokenClassificationHead
{
    /// <param name="builder">The "classifier" prefix.</param>
    public FirstTokenClassificationHead(ParameterBuilder builder, int hidden, int numLabels, ActivationFunction activation, double initStd)
    {
        Dense = new Linear(builder.Prefix("dense"), hidden, hidden, initStd);
        Activation = activation;
        OutProj = new Linear(builder.Prefix("out_proj"), hidden, numLabels, initStd);
    }

    public Linear Dense { get; }

    public ActivationFunction Activation { get; }

    public Linear OutProj { get; }

    public int NumLabels => OutProj.OutFeatures;

    /// <summary>
    /// first (B, C) = hidden[:, 0]; dense (B, C) = Dense(first); activated (B, C) = act(dense);
    /// logits (B, L) = OutProj(activated). activated may be dense (inference); backward needs both.
    /// </summary>
    public void Forward(ReadOnlySpan<float> first, Memory<float> dense, Memory<float> activated, Span<float> logits)
    {
        Dense.Forward(first, dense.Span);
        Activation.Apply(dense, activated);
        OutProj.Forward(activated.Span, logits);
    }
}
