using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>What a model's forward pass returns to the Trainer.</summary>
/// <param name="Loss">The mean loss over the batch (cross-entropy, MSE, or BCE by the model's problem_type); null when the batch has no labels.</param>
/// <param name="Logits">(B, NumLabels) logits, row-major.</param>
public sealed record ModelOutput(float? Loss, float[] Logits);

/// <summary>
/// The small surface the Trainer needs from a sequence-classification model; the model layer
/// implements it. Parameters are named with their checkpoint names, in named_parameters() order.
/// </summary>
public interface ITrainableModel
{
    /// <summary>Every trainable parameter with its value and gradient buffer, in HF's named_parameters() order.</summary>
    IReadOnlyList<ITrainableParameter> Parameters { get; }

    /// <summary>Logits per example (config.num_labels).</summary>
    int NumLabels { get; }

    /// <summary>
    /// Runs the model on a padded batch. With <paramref name="training"/> true: dropout is active,
    /// drawing its masks from <paramref name="dropoutRandom"/> (the Trainer owns it and saves its
    /// state in checkpoints), and the activations backward needs are kept. With false: inference
    /// mode, no dropout, nothing kept. The loss is computed when the batch has labels.
    /// </summary>
    ModelOutput Forward(CollatedBatch batch, bool training, SeededRandom? dropoutRandom);

    /// <summary>
    /// Back-propagates <c>lossScale × loss</c> of the last training-mode forward, adding the result
    /// into every parameter's Gradient (accumulating across calls, as torch does; the Trainer zeroes
    /// gradients after each optimizer step). Gradient accumulation passes 1/gradient_accumulation_steps.
    /// </summary>
    void Backward(float lossScale);

    /// <summary>Writes an HF model folder (config.json, model.safetensors with {"format": "pt"} metadata).</summary>
    void SavePretrained(string directory);

    /// <summary>Replaces the parameter values with those of an HF model folder saved by <see cref="SavePretrained"/> (for resume and load_best_model_at_end).</summary>
    void LoadWeights(string directory);
}
