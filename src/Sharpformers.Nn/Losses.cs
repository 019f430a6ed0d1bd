using Sharpformers.Kernels;

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

    /// <summary>
    /// CrossEntropyLoss for wide rows (a masked-LM's vocabulary logits), with the softmax kept for
    /// backward: <paramref name="logits"/> (N, K) is overwritten by the probabilities (rows split
    /// across threads, float32 vectorized exp), and the mean of −log p[label] over the N rows is
    /// returned (per-row losses summed in double in row order, so the result does not depend on the
    /// thread count). Every label must be a class: pass only the rows that are predicted.
    /// </summary>
    public static float SoftmaxCrossEntropyInPlace(Memory<float> logits, int numClasses, ReadOnlyMemory<int> labels)
    {
        int rows = labels.Length;
        if (logits.Length != (long)rows * numClasses)
        {
            throw new ArgumentException($"SoftmaxCrossEntropy: {rows} labels need logits of {rows} × {numClasses}, got {logits.Length} values.", nameof(labels));
        }
        if (rows == 0) return 0f;
        var rowLosses = new double[rows];
        RowParallel.For(rows, numClasses, (start, count) =>
        {
            var labelSpan = labels.Span;
            for (int n = start; n < start + count; n++)
            {
                int label = labelSpan[n];
                if ((uint)label >= (uint)numClasses)
                {
                    throw new ArgumentException($"Label {label} at row {n} is outside [0, {numClasses}).", nameof(labels));
                }
                var row = logits.Span.Slice(n * numClasses, numClasses);
                float max = Reductions.Max(row);
                float target = row[label];
                Softmax.Rows(row, numClasses, row);
                float p = row[label];
                // −log p is exact while p is a normal float; below that, use log Σexp = −log p(argmax) (p(argmax) ≥ 1/K never underflows).
                rowLosses[n] = p > 1e-30f ? -Math.Log(p) : (double)max - target - Math.Log(Reductions.Max(row));
            }
        });
        double total = 0;
        foreach (double loss in rowLosses) total += loss;
        return (float)(total / rows);
    }

    /// <summary>
    /// The gradient of scale · <see cref="SoftmaxCrossEntropyInPlace"/>, in place over the probabilities
    /// it left: dLogits (N, K) = scale · (p − onehot(label)) / N.
    /// </summary>
    public static void SoftmaxCrossEntropyBackwardInPlace(Memory<float> probabilities, int numClasses, ReadOnlyMemory<int> labels, float scale)
    {
        int rows = labels.Length;
        if (probabilities.Length != (long)rows * numClasses)
        {
            throw new ArgumentException($"SoftmaxCrossEntropy backward: {rows} labels need {rows} × {numClasses} probabilities, got {probabilities.Length}.", nameof(labels));
        }
        if (rows == 0) return;
        float factor = (float)((double)scale / rows);
        RowParallel.For(rows, numClasses, (start, count) =>
        {
            var labelSpan = labels.Span;
            for (int n = start; n < start + count; n++)
            {
                var row = probabilities.Span.Slice(n * numClasses, numClasses);
                row[labelSpan[n]] -= 1f;
                Elementwise.Scale(row, factor, row);
            }
        });
    }
}
