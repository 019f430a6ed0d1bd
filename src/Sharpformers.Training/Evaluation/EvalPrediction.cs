namespace Sharpformers.Training.Evaluation;

/// <summary>
/// Computes metrics from an evaluation's predictions, as HF's <c>compute_metrics</c> hook: keys such
/// as "accuracy" and "f1" (the Trainer prefixes them with "eval_").
/// </summary>
public delegate IReadOnlyDictionary<string, double> ComputeMetrics(EvalPrediction evalPrediction);

/// <summary>
/// What an evaluation produced (HF's <c>EvalPrediction</c>): the model's logits for every example,
/// (N, C) row-major, and the reference labels (class ids, or floats for regression).
/// </summary>
public sealed class EvalPrediction
{
    /// <param name="predictions">(N, C) logits, row-major.</param>
    /// <param name="numLabels">C, the number of logits per example.</param>
    /// <param name="labelIds">(N) reference class ids, or null when the data was unlabelled or real-valued.</param>
    /// <param name="floatLabelIds">(N) reference values for regression.</param>
    public EvalPrediction(float[] predictions, int numLabels, int[]? labelIds, float[]? floatLabelIds = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLabels);
        if (predictions.Length % numLabels != 0)
        {
            throw new ArgumentException($"{predictions.Length} predictions are not a whole number of rows of {numLabels} logits.", nameof(predictions));
        }
        int count = predictions.Length / numLabels;
        if (labelIds is not null && labelIds.Length != count)
        {
            throw new ArgumentException($"{labelIds.Length} label ids for {count} predictions.", nameof(labelIds));
        }
        if (floatLabelIds is not null && floatLabelIds.Length != count)
        {
            throw new ArgumentException($"{floatLabelIds.Length} float labels for {count} predictions.", nameof(floatLabelIds));
        }
        Predictions = predictions;
        NumLabels = numLabels;
        LabelIds = labelIds;
        FloatLabelIds = floatLabelIds;
    }

    /// <summary>(N, C) logits, row-major.</summary>
    public float[] Predictions { get; }

    public int NumLabels { get; }

    public int NumExamples => Predictions.Length / NumLabels;

    public int[]? LabelIds { get; }

    public float[]? FloatLabelIds { get; }

    /// <summary>The logits of one example.</summary>
    public ReadOnlySpan<float> Logits(int example) => Predictions.AsSpan(example * NumLabels, NumLabels);

    /// <summary>np.argmax(predictions, axis=-1): the first largest logit of each row.</summary>
    public int[] PredictedClassIds()
    {
        var ids = new int[NumExamples];
        for (int i = 0; i < ids.Length; i++)
        {
            var row = Logits(i);
            int best = 0;
            for (int c = 1; c < row.Length; c++)
            {
                // NaN never wins, as in numpy where a NaN is returned first; a NaN row is a failed model anyway.
                if (row[c] > row[best]) best = c;
            }
            ids[i] = best;
        }
        return ids;
    }

    /// <summary>The reference ids, or an error saying the evaluation data had no class labels.</summary>
    public int[] RequireLabelIds() =>
        LabelIds ?? throw new InvalidOperationException("These metrics need class labels, but the evaluation data has none (unlabelled or regression data).");
}
