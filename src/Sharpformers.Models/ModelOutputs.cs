using Sharpformers.Tensors;

namespace Sharpformers.Models;

/// <summary>HF's BaseModelOutputWithPooling: what a bare encoder returns.</summary>
public sealed class BaseModelOutput
{
    /// <summary>(B, T, C) the last layer's hidden states.</summary>
    public required Tensor LastHiddenState { get; init; }

    /// <summary>(B, C) the pooled [CLS] representation, for models with a pooler (BERT); null otherwise.</summary>
    public Tensor? PoolerOutput { get; init; }

    /// <summary>The embeddings' output followed by each layer's, each (B, T, C), when output_hidden_states.</summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; init; }

    /// <summary>Each layer's attention weights (B, H, T, T), when output_attentions.</summary>
    public IReadOnlyList<Tensor>? Attentions { get; init; }
}

/// <summary>HF's SequenceClassifierOutput.</summary>
public sealed class SequenceClassifierOutput
{
    /// <summary>The loss when labels were given (cross-entropy, MSE or BCE-with-logits by problem type).</summary>
    public float? Loss { get; init; }

    /// <summary>(B, num_labels) scores before softmax/sigmoid.</summary>
    public required Tensor Logits { get; init; }

    public IReadOnlyList<Tensor>? HiddenStates { get; init; }

    public IReadOnlyList<Tensor>? Attentions { get; init; }
}
