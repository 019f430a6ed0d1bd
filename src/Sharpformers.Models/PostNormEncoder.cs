using Sharpformers.Nn;
using Sharpformers.Nn.Inference;
using Sharpformers.Utils;

namespace Sharpformers.Models;

/// <summary>
/// Embeddings as a post-LN encoder runs them: a sum of table lookups (B·T, E), LayerNorm, then
/// dropout in training. Implemented by <see cref="WordPositionTypeEmbeddings"/> (BERT, RoBERTa,
/// ELECTRA, ALBERT) and DistilBERT's embeddings.
/// </summary>
internal interface IEncoderEmbeddings
{
    /// <summary>E, the width of the lookups.</summary>
    int Dim { get; }

    LayerNorm LayerNorm { get; }

    /// <summary>After the LayerNorm (training only).</summary>
    Dropout Dropout { get; }

    /// <summary>sum (B·T, E) = the lookups; output (B·T, E) = LN(sum), which may be sum; mean and rstd (B·T) are written when non-empty.</summary>
    void Forward(ModelInputs inputs, ReadOnlySpan<int> positionIds, Memory<float> sum, Memory<float> output, Memory<float> mean, Memory<float> rstd);

    /// <summary>Scatter-adds d(sum) (B·T, E) into the tables (padding rows and frozen tables get nothing).</summary>
    void Backward(ModelInputs inputs, ReadOnlyMemory<int> positionIds, ReadOnlyMemory<float> dSum, TrainingWorkspace workspace);
}

/// <summary>
/// The encoder BERT, DistilBERT, RoBERTa/XLM-R, ELECTRA and ALBERT share: embeddings (LayerNorm,
/// dropout), an optional projection to the hidden size (ELECTRA's embeddings_project, ALBERT's
/// embedding_hidden_mapping_in), then a schedule of post-LN layers (ALBERT repeats its shared ones).
/// Inference, training forward and backward, once for all of them.
/// </summary>
/// <param name="layers">The layers in the order they run; the same layer may appear more than once.</param>
/// <param name="layersPerHiddenState">Layer applications per reported hidden state (ALBERT: inner_group_num).</param>
internal sealed class PostNormEncoder(IEncoderEmbeddings embeddings, Linear? projection, IReadOnlyList<PostNormEncoderLayer> layers,
    int hidden, int heads, int intermediate, int layersPerHiddenState = 1)
{
    /// <summary>
    /// The inference pass over validated inputs of (batch, seq) with their position ids (B, T), through
    /// the layers' packed inference form (<see cref="EncoderRunner"/>).
    /// </summary>
    /// <param name="firstTokensOnly">The caller reads only hidden[:, 0]: padding may be dropped.</param>
    /// <param name="precision">The linear layers' precision.</param>
    public EncoderPass Run(ModelInputs inputs, int batch, int seq, ReadOnlySpan<int> positionIds, ActivationArena arena,
        bool outputAttentions, bool outputHiddenStates, bool firstTokensOnly, InferencePrecision precision)
    {
        var embedded = arena.Take(batch * seq * embeddings.Dim);                        // (B, T, E)
        embeddings.Forward(inputs, positionIds, embedded, embedded, Memory<float>.Empty, Memory<float>.Empty);
        var hiddenIn = embedded;
        if (projection is not null)
        {
            hiddenIn = arena.Take(batch * seq * hidden);                                // (B, T, C)
            projection.Forward(embedded.Span, hiddenIn.Span);
        }
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        return EncoderRunner.Run(layers, arena, hiddenIn, batch, seq, hidden, heads, intermediate,
            mask, outputAttentions, outputHiddenStates, layersPerHiddenState,
            attentionMask: inputs.AttentionMask is null ? default : inputs.AttentionMask.Span,
            firstTokensOnly: firstTokensOnly, precision: precision);
    }

    /// <summary>The training forward, every intermediate kept in <paramref name="arena"/> for <see cref="Backward"/>.</summary>
    public PostNormTrainingPass TrainForward(ModelInputs inputs, int batch, int seq, int[] positionIds, ActivationArena arena, SeededRandom? random)
    {
        int n = batch * seq;
        var sum = arena.Take(n * embeddings.Dim);                                       // (B, T, E)
        var normOut = arena.Take(n * embeddings.Dim);                                   // (B, T, E)
        var mean = arena.Take(n);                                                       // (B, T)
        var rstd = arena.Take(n);                                                       // (B, T)
        embeddings.Forward(inputs, positionIds, sum, normOut, mean, rstd);
        var (output, keep) = EncoderTraining.DropoutForTraining(embeddings.Dropout, normOut, arena, random);
        var projected = Memory<float>.Empty;
        if (projection is not null)
        {
            projected = arena.Take(n * hidden);                                         // (B, T, C)
            projection.Forward(output.Span, projected.Span);
        }
        var mask = EncoderRunner.AdditiveMask(inputs, arena);                          // (B, T)
        var kept = EncoderTraining.ForwardLayers(layers, arena, projection is null ? output : projected, batch, seq, hidden, heads, intermediate, mask, random);
        return new PostNormTrainingPass
        {
            Batch = batch, Seq = seq, Hidden = hidden, Inputs = inputs, PositionIds = positionIds,
            AdditiveMask = mask, EmbeddingSum = sum, EmbeddingNormOut = normOut, EmbeddingMean = mean, EmbeddingRstd = rstd,
            EmbeddingDropoutKeep = keep, EmbeddingOutput = output, Projected = projected, Layers = kept,
        };
    }

    /// <summary>Backward from dLastHidden (B, T, C) (used as scratch) through the layers, the projection and the embeddings.</summary>
    public void Backward(PostNormTrainingPass pass, Memory<float> dLastHidden, TrainingWorkspace workspace)
    {
        var arena = workspace.Backward;
        var dOutput = EncoderTraining.BackwardLayers(layers, pass.Layers, dLastHidden, arena);   // (B, T, C) d(layer input)
        if (projection is not null)
        {
            var dEmbedded = arena.Take(pass.EmbeddingOutput.Length);                     // (B, T, E)
            projection.Backward(pass.EmbeddingOutput, dOutput, dEmbedded);
            dOutput = dEmbedded;
        }
        if (pass.EmbeddingDropoutApplied) embeddings.Dropout.Backward(dOutput, pass.EmbeddingDropoutKeep, dOutput);
        embeddings.LayerNorm.Backward(pass.EmbeddingSum, pass.EmbeddingMean, pass.EmbeddingRstd, dOutput, dOutput, arena);   // d(sum)
        embeddings.Backward(pass.Inputs, pass.PositionIds, dOutput, workspace);
    }
}
