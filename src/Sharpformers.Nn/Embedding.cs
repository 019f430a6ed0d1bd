using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>torch.nn.Embedding: a (num_embeddings, dim) table looked up by index.</summary>
public sealed class Embedding
{
    /// <param name="paddingIdx">torch's padding_idx: the row that receives no gradient (HF passes pad_token_id for word embeddings); null for none.</param>
    public Embedding(ParameterBuilder builder, int numEmbeddings, int dim, ParameterInit init, bool requiresGrad = true, int? paddingIdx = null)
    {
        NumEmbeddings = numEmbeddings;
        Dim = dim;
        if (paddingIdx is int p && (p < 0 || p >= numEmbeddings))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), p, $"padding_idx must be within the {numEmbeddings} rows of {builder.FullName("weight")}.");
        }
        PaddingIdx = paddingIdx;
        Weight = builder.Get("weight", [numEmbeddings, dim], init, requiresGrad);
    }

    public int NumEmbeddings { get; }

    public int Dim { get; }

    /// <summary>The row that gets no gradient, or null.</summary>
    public int? PaddingIdx { get; }

    public Parameter Weight { get; } // (V, C)

    /// <summary>y (N, C) = table[ids].</summary>
    public void Forward(ReadOnlySpan<int> ids, Span<float> y) => EmbeddingLookup.Gather(Weight.Value.Span, Dim, ids, y);

    /// <summary>y (N, C) += table[ids] (summing embeddings).</summary>
    public void ForwardAdd(ReadOnlySpan<int> ids, Span<float> y) => EmbeddingLookup.GatherAdd(Weight.Value.Span, Dim, ids, y);

    /// <summary>
    /// Backward of the gather: Weight.Grad[ids[i]] += dy[i] (N, C), except the padding row; a no-op
    /// for a frozen table (no gradient buffer). Column windows run in parallel.
    /// </summary>
    public void Backward(ReadOnlyMemory<int> ids, ReadOnlyMemory<float> dy)
    {
        if (Weight.Grad is not { } grad) return;
        if ((long)ids.Length * Dim != dy.Length)
        {
            throw new ArgumentException($"Embedding backward: dy has {dy.Length} elements, expected {ids.Length} ids × {Dim}.", nameof(dy));
        }
        int dim = Dim;
        int padding = PaddingIdx ?? -1;
        var table = grad.Memory;
        ColumnParallel.For(dim, ids.Length, (start, count) =>
            EmbeddingLookupBackward.ScatterAdd(dy.Span[start..], dim, ids.Span, padding, table.Span[start..], dim, count));
    }
}
