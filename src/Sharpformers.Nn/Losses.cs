namespace Sharpformers.Nn;

/// <summary>
/// The three losses of HF's sequence-classification heads, as torch defines them (mean reduction),
/// accumulated in double.
/// </summary>
public static class Losses
{
    /// <summary>torch's default ignore_index: label -100 contributes nothing.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>CrossEntropyLoss(logits (N, K), labels (N)): mean over labels other than -100 (NaN when all are ignored, as torch).</summary>
    public static float CrossEntropy(ReadOnlySpan<float> logits, int numClasses, ReadOnlySpan<int> labels)
    {
        if (logits.Length != labels.Length * numClasses)
        {
            throw new ArgumentException($"CrossEntropy: {labels.Length} labels need logits of {labels.Length} × {numClasses}, got {logits.Length} values.", nameof(labels));
        }
        double total = 0;
        int counted = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            int label = labels[n];
            if (label == IgnoreIndex) continue;
            if ((uint)label >= (uint)numClasses)
            {
                throw new ArgumentException($"Label {label} at position {n} is outside [0, {numClasses}) (num_labels = {numClasses}).", nameof(labels));
            }
            var row = logits.Slice(n * numClasses, numClasses);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            total += max + Math.Log(sum) - row[label];
            counted++;
        }
        return (float)(total / counted);
    }

    /// <summary>MSELoss: mean of (prediction - target)².</summary>
    public static float MeanSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        if (predictions.Length != targets.Length)
        {
            throw new ArgumentException($"MSE: {predictions.Length} predictions but {targets.Length} targets.", nameof(targets));
        }
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double d = (double)predictions[i] - targets[i];
            total += d * d;
        }
        return (float)(total / predictions.Length);
    }

    /// <summary>BCEWithLogitsLoss: mean of max(x, 0) - x·y + log(1 + exp(-|x|)), the stable form torch uses.</summary>
    public static float BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets)
    {
        if (logits.Length != targets.Length)
        {
            throw new ArgumentException($"BCEWithLogits: {logits.Length} logits but {targets.Length} targets.", nameof(targets));
        }
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double x = logits[i];
            total += Math.Max(x, 0) - x * targets[i] + Math.Log(1 + Math.Exp(-Math.Abs(x)));
        }
        return (float)(total / logits.Length);
    }
}
