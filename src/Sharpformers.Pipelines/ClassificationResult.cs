using System.Collections;
using System.Globalization;

namespace Sharpformers.Pipelines;

/// <summary>One input of a text-classification pipeline: a text, or a pair (HF's {"text", "text_pair"}).</summary>
public sealed record TextInput(string Text, string? TextPair = null)
{
    public static implicit operator TextInput(string text) => new(text);
}

/// <summary>A label and its score (HF's {"label": ..., "score": ...}).</summary>
public sealed record LabelScore(string Label, float Score)
{
    public override string ToString() => $"{{label: {Label}, score: {Score.ToString("R", CultureInfo.InvariantCulture)}}}";
}

/// <summary>What turns logits into scores (HF's ClassificationFunction).</summary>
public enum ClassificationFunction
{
    Softmax,
    Sigmoid,

    /// <summary>The raw logits are the scores.</summary>
    None,
}

/// <summary>
/// The result for one input: its labels by descending score, cut to TopK. It is a list, like HF's
/// output with top_k, and also exposes the best label and score directly, like HF's default output.
/// </summary>
public sealed class ClassificationResult(TextInput input, IReadOnlyList<LabelScore> scores, IReadOnlyList<float> logits) : IReadOnlyList<LabelScore>
{
    public TextInput Input { get; } = input;

    /// <summary>The model's raw scores, one per label in label-id order.</summary>
    public IReadOnlyList<float> Logits { get; } = logits;

    /// <summary>The best label.</summary>
    public string Label => scores[0].Label;

    /// <summary>The best label's score.</summary>
    public float Score => scores[0].Score;

    public int Count => scores.Count;

    public LabelScore this[int index] => scores[index];

    public IEnumerator<LabelScore> GetEnumerator() => scores.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => scores.Count == 1 ? scores[0].ToString() : "[" + string.Join(", ", scores) + "]";
}

/// <summary>The arguments of a text-classification pipeline call, with transformers' defaults.</summary>
public sealed record TextClassificationOptions
{
    /// <summary>How many labels to return per input, best first; null returns all (HF's top_k=None). Default 1.</summary>
    public int? TopK { get; init; } = 1;

    /// <summary>Softmax, sigmoid or none; null applies HF's rule (sigmoid for multi-label or a single label, else softmax).</summary>
    public ClassificationFunction? FunctionToApply { get; init; }

    /// <summary>Truncate long inputs to the tokenizer's maximum length (or <see cref="MaxLength"/>). Off by default, as in transformers.</summary>
    public bool Truncation { get; init; }

    /// <summary>Truncation length in tokens; null uses the tokenizer's model_max_length.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Inputs per forward pass (padded to the batch's longest). Default 1, as in transformers.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>
    /// With BatchSize &gt; 1, batch inputs of similar length together: all inputs are tokenized first and
    /// grouped by token count (results still come back in input order), so batches carry little padding
    /// (and the model drops what is left). On by default; off batches in input order, as transformers does.
    /// The scores are the same either way (to float rounding).
    /// </summary>
    public bool SortByLength { get; init; } = true;

    internal void Validate()
    {
        if (TopK is <= 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be at least 1, or null for every label.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (MaxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "MaxLength must be positive.");
    }
}
