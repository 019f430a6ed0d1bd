using Sharpformers.Models.Configuration;
using Sharpformers.Nn;
using Sharpformers.Tensors;

namespace Sharpformers.Models;

/// <summary>The loss of every *ForSequenceClassification head, decided exactly as transformers decides it.</summary>
public static class SequenceClassificationLoss
{
    /// <summary>
    /// When config.problem_type is unset it is set (and kept, as transformers does) from the labels:
    /// num_labels == 1 → regression (MSE); integer labels → single_label_classification
    /// (cross-entropy, -100 ignored); otherwise multi_label_classification (BCE with logits).
    /// </summary>
    public static float Compute(PretrainedConfig config, Tensor logits, ITensor labels)
    {
        int numLabels = logits.Shape[^1]; // the head's width (config.num_labels when the model was built)
        int batch = logits.Shape[0];
        if (config.ProblemType is null)
        {
            config.ProblemType = numLabels == 1 ? "regression"
                : labels is IntTensor ? "single_label_classification"
                : "multi_label_classification";
        }
        switch (config.ProblemType)
        {
            case "regression":
            {
                var targets = AsFloat(labels);
                if (numLabels == 1)
                {
                    // logits.squeeze() against labels.squeeze(): one target per sequence.
                    if (targets.Length != batch) throw LabelShape(labels, $"({batch},) for regression with num_labels = 1");
                    return Losses.MeanSquaredError(logits.Span, targets.Span);
                }
                if (targets.Length != logits.Length) throw LabelShape(labels, $"({batch}, {numLabels}) for regression");
                return Losses.MeanSquaredError(logits.Span, targets.Span);
            }
            case "single_label_classification":
            {
                if (labels is not IntTensor classes)
                {
                    throw new ArgumentException("single_label_classification needs integer class labels (an IntTensor of shape (batch,)).", nameof(labels));
                }
                if (classes.Length != batch) throw LabelShape(labels, $"({batch},) class indices");
                return Losses.CrossEntropy(logits.Span, numLabels, classes.Span);
            }
            case "multi_label_classification":
            {
                var targets = AsFloat(labels);
                if (targets.Length != logits.Length) throw LabelShape(labels, $"({batch}, {numLabels}) multi-hot rows");
                return Losses.BinaryCrossEntropyWithLogits(logits.Span, targets.Span);
            }
            default:
                throw new InvalidOperationException($"Unknown problem_type '{config.ProblemType}'.");
        }
    }

    internal static Tensor AsFloat(ITensor labels) => labels switch
    {
        Tensor t => t,
        IntTensor i => i.ToFloat(),
        _ => throw new ArgumentException($"Labels of type {labels.GetType().Name} are not supported.", nameof(labels)),
    };

    internal static ArgumentException LabelShape(ITensor labels, string expected) =>
        new($"labels have shape {TensorShape.Format(labels.Shape.ToArray())}; expected {expected}.", nameof(labels));

    /// <summary>
    /// dLogits (B, L) = d(scale · loss)/dlogits for the loss <see cref="Compute"/> chose (it must have
    /// run first: it fixes config.problem_type).
    /// </summary>
    public static void Backward(PretrainedConfig config, Tensor logits, ITensor labels, float scale, Span<float> dLogits)
    {
        int numLabels = logits.Shape[^1];
        switch (config.ProblemType)
        {
            case "regression":
                Losses.MeanSquaredErrorBackward(logits.Span, AsFloat(labels).Span, scale, dLogits);
                break;
            case "single_label_classification":
                Losses.CrossEntropyBackward(logits.Span, numLabels, ((IntTensor)labels).Span, scale, dLogits);
                break;
            case "multi_label_classification":
                Losses.BinaryCrossEntropyWithLogitsBackward(logits.Span, AsFloat(labels).Span, scale, dLogits);
                break;
            default:
                throw new InvalidOperationException($"No loss to differentiate: problem_type is '{config.ProblemType ?? "null"}' (compute the loss first).");
        }
    }
}
