using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>torch.nn.Embedding: a (num_embeddings, dim) table looked up by index.</summary>
public sealed class Embedding
{
    public Embedding(ParameterBuilder builder, int numEmbeddings, int dim, ParameterInit init, bool requiresGrad = true)
    {
        NumEmbeddings = numEmbeddings;
        Dim = dim;
        Weight = builder.Get("weight", [numEmbeddings, dim], init, requiresGrad);
    }

    public int NumEmbeddings { get; }

    public int Dim { get; }

    public Parameter Weight { get; } // (V, C)

    /// <summary>y (N, C) = table[ids].</summary>
    public void Forward(ReadOnlySpan<int> ids, Span<float> y) => EmbeddingLookup.Gather(Weight.Value.Span, Dim, ids, y);

    /// <summary>y (N, C) += table[ids] (summing embeddings).</summary>
    public void ForwardAdd(ReadOnlySpan<int> ids, Span<float> y) => EmbeddingLookup.GatherAdd(Weight.Value.Span, Dim, ids, y);
}
