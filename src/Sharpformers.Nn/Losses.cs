namespace Sharpformers.Nn;

/// <summary>
/// The three losses of HF's sequence-classification heads, as torch defines them (mean reduction),
/// accumulated in double, each with its backward beside it: the gradient of scale · loss with
/// respect to the logits (scale is the Trainer's 1/gradient_accumulation_steps).
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

    /// <summary>
    /// dLogits (N, K) = scale · (softmax(logits) − onehot(label)) / (labels other than −100), and 0
    /// on ignored rows: the gradient of <see cref="CrossEntropy"/>.
    /// </summary>
    public static void CrossEntropyBackward(ReadOnlySpan<float> logits, int numClasses, ReadOnlySpan<int> labels, float scale, Span<float> dLogits)
    {
        if (logits.Length != labels.Length * numClasses || dLogits.Length != logits.Length)
        {
            throw new ArgumentException($"CrossEntropy backward: {labels.Length} labels need logits and dLogits of {labels.Length} × {numClasses}, got {logits.Length} and {dLogits.Length}.", nameof(labels));
        }
        int counted = 0;
        foreach (int label in labels) if (label != IgnoreIndex) counted++;
        double factor = (double)scale / counted;
        for (int n = 0; n < labels.Length; n++)
        {
            var d = dLogits.Slice(n * numClasses, numClasses);
            int label = labels[n];
            if (label == IgnoreIndex)
            {
                d.Clear();
                continue;
            }
            if ((uint)label >= (uint)numClasses)
            {
                throw new ArgumentException($"Label {label} at position {n} is outside [0, {numClasses}) (num_labels = {numClasses}).", nameof(labels));
            }
            var row = logits.Slice(n * numClasses, numClasses);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int k = 0; k < numClasses; k++)
            {
                double p = Math.Exp(row[k] - max) / sum;
                d[k] = (float)((p - (k == label ? 1 : 0)) * factor);
            }
        }
    }

    /// <summary>dPredictions = scale · 2(prediction − target) / n: the gradient of <see cref="MeanSquaredError"/>.</summary>
    public static void MeanSquaredErrorBackward(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, float scale, Span<float> dPredictions)
    {
        if (predictions.Length != targets.Length || dPredictions.Length != predictions.Length)
        {
            throw new ArgumentException($"MSE backward: {predictions.Length} predictions, {targets.Length} targets, {dPredictions.Length} gradients.", nameof(targets));
        }
        double factor = 2.0 * scale / predictions.Length;
        for (int i = 0; i < predictions.Length; i++) dPredictions[i] = (float)(((double)predictions[i] - targets[i]) * factor);
    }

    /// <summary>dLogits = scale · (σ(x) − y) / n: the gradient of <see cref="BinaryCrossEntropyWithLogits"/>.</summary>
    public static void BinaryCrossEntropyWithLogitsBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, float scale, Span<float> dLogits)
    {
        if (logits.Length != targets.Length || dLogits.Length != logits.Length)
        {
            throw new ArgumentException($"BCEWithLogits backward: {logits.Length} logits, {targets.Length} targets, {dLogits.Length} gradients.", nameof(targets));
        }
        double factor = (double)scale / logits.Length;
        for (int i = 0; i < logits.Length; i++)
        {
            double sigmoid = 1 / (1 + Math.Exp(-(double)logits[i]));
            dLogits[i] = (float)((sigmoid - targets[i]) * factor);
        }
    }
}
