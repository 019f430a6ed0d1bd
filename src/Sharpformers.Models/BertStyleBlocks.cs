using Sharpformers.Kernels;
using Sharpformers.Nn;
using Sharpformers.Tensors;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>
/// Word + absolute position + token-type embeddings, summed, layer-normalised and (training) dropped
/// out: BertEmbeddings and the classes transformers copied from it (RobertaEmbeddings,
/// ElectraEmbeddings, AlbertEmbeddings). Their width is the config's embedding_size, which ELECTRA and
/// ALBERT make smaller than the hidden size and project up afterwards. Checkpoint names:
/// word_embeddings, position_embeddings, token_type_embeddings, LayerNorm (in that order, as
/// named_parameters() lists them).
/// </summary>
public sealed class WordPositionTypeEmbeddings : IEncoderEmbeddings
{
    /// <param name="builder">The "embeddings" prefix.</param>
    /// <param name="paddingIdx">pad_token_id: the word table's padding_idx (zero when initialised, no gradient).</param>
    /// <param name="dropout">hidden_dropout_prob, after the LayerNorm (training only).</param>
    /// <param name="positionsHavePaddingRow">RoBERTa's position table also has padding_idx = pad_token_id.</param>
    public WordPositionTypeEmbeddings(ParameterBuilder builder, int vocabSize, int maxPositions, int typeVocabSize, int dim,
        double layerNormEps, double initStd, int? paddingIdx, double dropout, bool positionsHavePaddingRow = false)
    {
        Dim = dim;
        WordEmbeddings = new Embedding(builder.Prefix("word_embeddings"), vocabSize, dim, ParameterInit.NormalWithZeroRow(initStd, paddingIdx),
            paddingIdx: paddingIdx);
        PositionEmbeddings = positionsHavePaddingRow
            ? new Embedding(builder.Prefix("position_embeddings"), maxPositions, dim, ParameterInit.NormalWithZeroRow(initStd, paddingIdx), paddingIdx: paddingIdx)
            : new Embedding(builder.Prefix("position_embeddings"), maxPositions, dim, ParameterInit.Normal(initStd));
        TokenTypeEmbeddings = new Embedding(builder.Prefix("token_type_embeddings"), typeVocabSize, dim, ParameterInit.Normal(initStd));
        LayerNorm = new LayerNorm(builder.Prefix("LayerNorm"), dim, layerNormEps);
        Dropout = new Dropout(dropout);
        builder.DeclareBuffer("position_ids");
        builder.DeclareBuffer("token_type_ids");
    }

    /// <summary>The embedding width (embedding_size, or hidden_size when the model has no projection).</summary>
    public int Dim { get; }

    public Embedding WordEmbeddings { get; }

    public Embedding PositionEmbeddings { get; }

    public Embedding TokenTypeEmbeddings { get; }

    public LayerNorm LayerNorm { get; }

    /// <summary>hidden_dropout_prob after the LayerNorm (training only).</summary>
    public Dropout Dropout { get; }

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

    void IEncoderEmbeddings.Forward(ModelInputs inputs, ReadOnlySpan<int> positionIds, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd) =>
        Forward(inputs.InputIds.Span, inputs.TokenTypeIds is null ? default : inputs.TokenTypeIds.Span, positionIds, sum, output, mean, rstd);

    /// <summary>
    /// Backward from d(sum) (N, E): scatter-adds into the three tables (padding rows skipped;
    /// missing token types count as segment 0).
    /// </summary>
    void IEncoderEmbeddings.Backward(ModelInputs inputs, ReadOnlyMemory<int> positionIds, ReadOnlyMemory<float> dSum, TrainingWorkspace workspace)
    {
        int n = inputs.InputIds.Length;
        WordEmbeddings.Backward(inputs.InputIds.Memory, dSum);
        TokenTypeEmbeddings.Backward(inputs.TokenTypeIds?.Memory ?? workspace.Zeros(n).AsMemory(0, n), dSum);
        PositionEmbeddings.Backward(positionIds, dSum);
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
    /// <param name="dropout">Where HF drops out in training (BERT's: attention_probs_dropout_prob, then hidden_dropout_prob twice); none when null.</param>
    public static PostNormEncoderLayer Create(ParameterBuilder builder, int hidden, int intermediate, int heads,
        ActivationFunction activation, double layerNormEps, double initStd, EncoderLayerDropout? dropout = null)
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
            numHeads: heads,
            dropout: dropout);
    }

    /// <summary>num_hidden_layers such layers under "encoder.layer.{i}".</summary>
    public static IReadOnlyList<PostNormEncoderLayer> CreateStack(ParameterBuilder encoder, int count, int hidden, int intermediate, int heads,
        ActivationFunction activation, double layerNormEps, double initStd, EncoderLayerDropout? dropout = null)
    {
        var layers = new List<PostNormEncoderLayer>(count);
        var layerBuilder = encoder.Prefix("layer");
        for (int i = 0; i < count; i++) layers.Add(Create(layerBuilder.Prefix(i), hidden, intermediate, heads, activation, layerNormEps, initStd, dropout));
        return layers;
    }
}

/// <summary>
/// The sequence-classification head every architecture here has, in one of its spellings: the first
/// token's hidden state → dropout → dense → activation → dropout → output projection (HF's places;
/// dropout is inactive at inference and a probability of 0 removes it).
/// <list type="bullet">
/// <item>RoBERTa / XLM-R (tanh) and ELECTRA (GELU): RobertaClassificationHead, classifier.dense and
/// classifier.out_proj, classifier_dropout (else hidden_dropout_prob) at both places.</item>
/// <item>BERT and ALBERT: the base model's pooler (dense + tanh) and the classifier, with
/// classifier_dropout / classifier_dropout_prob between them only.</item>
/// <item>DistilBERT: pre_classifier → ReLU → seq_classif_dropout → classifier.</item>
/// <item>DeBERTa-v2: ContextPooler (pooler_dropout → dense → pooler_hidden_act) → cls_dropout → classifier.</item>
/// </list>
/// Forward and backward side by side; the dense and output layers may belong to the base model (a
/// pooler), so their gradients land in its parameters.
/// </summary>
public sealed class FirstTokenClassificationHead
{
    /// <summary>RobertaClassificationHead / ElectraClassificationHead under the "classifier" prefix (dense, out_proj).</summary>
    /// <param name="dropout">classifier_dropout, or hidden_dropout_prob when that is null: both dropouts use it.</param>
    public FirstTokenClassificationHead(ParameterBuilder builder, int hidden, int numLabels, ActivationFunction activation, double initStd, double dropout = 0)
        : this(new Linear(builder.Prefix("dense"), hidden, hidden, initStd), activation,
            new Linear(builder.Prefix("out_proj"), hidden, numLabels, initStd), inputDropout: dropout, hiddenDropout: dropout)
    {
    }

    /// <summary>A head over existing layers (a base model's pooler and a top-level classifier).</summary>
    /// <param name="inputDropout">Dropout on the first token's hidden state, before <paramref name="dense"/>.</param>
    /// <param name="hiddenDropout">Dropout after the activation, before <paramref name="outProj"/>.</param>
    public FirstTokenClassificationHead(Linear dense, ActivationFunction activation, Linear outProj, double inputDropout, double hiddenDropout)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(outProj);
        if (dense.OutFeatures != outProj.InFeatures || dense.InFeatures != dense.OutFeatures)
        {
            throw new ArgumentException($"A classification head needs dense (C → C) and an output (C → labels); got {dense.InFeatures} → {dense.OutFeatures} and {outProj.InFeatures} → {outProj.OutFeatures}.");
        }
        Dense = dense;
        Activation = activation;
        OutProj = outProj;
        InputDropout = new Dropout(inputDropout);
        HiddenDropout = new Dropout(hiddenDropout);
    }

    public Dropout InputDropout { get; }

    public Linear Dense { get; }

    public ActivationFunction Activation { get; }

    public Dropout HiddenDropout { get; }

    public Linear OutProj { get; }

    public int Hidden => Dense.InFeatures;

    public int NumLabels => OutProj.OutFeatures;

    /// <summary>
    /// Inference: dense (B, C) = Dense(first (B, C)); activated (B, C) = act(dense); logits (B, L) =
    /// OutProj(activated). activated may be dense.
    /// </summary>
    public void Forward(ReadOnlySpan<float> first, Memory<float> dense, Memory<float> activated, Span<float> logits)
    {
        Dense.Forward(first, dense.Span);
        Activation.Apply(dense, activated);
        OutProj.Forward(activated.Span, logits);
    }

    /// <summary>Inference on an encoder pass: logits (B, L) from each sequence's first token.</summary>
    internal void Forward(EncoderPass pass, ActivationArena arena, Span<float> logits)
    {
        var first = arena.Take(pass.Batch * pass.Hidden);                             // (B, C) hidden[:, 0]
        pass.FirstTokens(first.Span);
        var dense = arena.Take(pass.Batch * pass.Hidden);                             // (B, C), activated in place
        Forward(first.Span, dense, dense, logits);
    }

    /// <summary>The training forward into <paramref name="logits"/> (B, L), keeping what <see cref="Backward"/> needs; dropout masks are drawn in HF's order.</summary>
    internal ClassificationHeadCache TrainForward(EncoderTrainingPass pass, ActivationArena arena, SeededRandom? random, Tensor logits, ITensor? labels)
    {
        int bc = pass.Batch * pass.Hidden;
        var first = arena.Take(bc);                                                    // (B, C) hidden[:, 0]
        pass.FirstTokens(first.Span);
        var (denseInput, inputKeep) = EncoderTraining.DropoutForTraining(InputDropout, first, arena, random);   // (B, C)
        var pre = arena.Take(bc);                                                      // (B, C) dense output
        Dense.Forward(denseInput.Span, pre.Span);
        var activated = arena.Take(bc);                                                // (B, C)
        Activation.Apply(pre, activated);
        var (classifierInput, keep) = EncoderTraining.DropoutForTraining(HiddenDropout, activated, arena, random); // (B, C)
        OutProj.Forward(classifierInput.Span, logits.Span);
        return new ClassificationHeadCache
        {
            Pass = pass, First = first, InputDropoutKeep = inputKeep, DenseInput = denseInput, PreActivation = pre, Activated = activated,
            DropoutKeep = keep, ClassifierInput = classifierInput, Logits = logits, Labels = labels,
        };
    }

    /// <summary>
    /// Backward from dLogits (B, L): accumulates the head's parameter gradients and returns dHidden
    /// (B, T, C), zero except at each first token.
    /// </summary>
    internal Memory<float> Backward(ClassificationHeadCache cache, ReadOnlyMemory<float> dLogits, ActivationArena arena)
    {
        var pass = cache.Pass;
        int bc = pass.Batch * pass.Hidden;
        var dActivated = arena.Take(bc);                                               // (B, C)
        OutProj.Backward(cache.ClassifierInput, dLogits, dActivated);
        if (!cache.DropoutKeep.IsEmpty) HiddenDropout.Backward(dActivated, cache.DropoutKeep, dActivated);
        // d(dense output); tanh is differentiated from its output, as torch's tanh_backward does.
        if (Activation == ActivationFunction.Tanh) ActivationsBackward.TanhFromOutput(cache.Activated.Span, dActivated.Span, dActivated.Span);
        else Activation.Backward(cache.PreActivation, dActivated, dActivated);
        var dFirst = arena.Take(bc);                                                   // (B, C)
        Dense.Backward(cache.DenseInput, dActivated, dFirst);
        if (!cache.InputDropoutKeep.IsEmpty) InputDropout.Backward(dFirst, cache.InputDropoutKeep, dFirst);
        var dHidden = arena.Take(bc * pass.Seq);                                       // (B, T, C)
        pass.FirstTokensBackward(dFirst.Span, dHidden.Span);
        return dHidden;
    }
}
