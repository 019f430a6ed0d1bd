namespace Sharpformers.Training.Evaluation;

/// <summary>How per-class precision/recall/F1 are combined, as scikit-learn's <c>average</c>.</summary>
public enum Average
{
    /// <summary>Only the positive class (<c>posLabel</c>); the labels must be binary.</summary>
    Binary,

    /// <summary>Unweighted mean over the classes present in predictions or references.</summary>
    Macro,

    /// <summary>From the global true/false positive counts (equals accuracy for single-label data).</summary>
    Micro,

    /// <summary>Mean weighted by each class's support (its count in the references).</summary>
    Weighted,
}

/// <summary>Precision, recall and F1 of one averaging.</summary>
public readonly record struct PrecisionRecallF1(double Precision, double Recall, double F1);

/// <summary>
/// A confusion matrix in scikit-learn's convention: <see cref="Counts"/>[i][j] is the number of
/// examples whose reference is <see cref="Labels"/>[i] and prediction <see cref="Labels"/>[j].
/// </summary>
public sealed record ConfusionMatrix(IReadOnlyList<int> Labels, int[][] Counts)
{
    public override string ToString()
    {
        int width = Math.Max(Counts.SelectMany(r => r).DefaultIfEmpty(0).Max().ToString(System.Globalization.CultureInfo.InvariantCulture).Length, 1);
        return string.Join("\n", Counts.Select(r => "[" + string.Join(" ", r.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width))) + "]"));
    }
}

/// <summary>
/// Classification metrics with scikit-learn's definitions (which HF <c>evaluate</c> wraps): a class
/// with no predicted (or no true) examples gets precision (or recall) 0, as sklearn's default
/// zero_division does, and F1 is 0 when precision and recall are both 0.
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>The fraction of predictions equal to their reference.</summary>
    public static double Accuracy(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references)
    {
        CheckLengths(predictions, references);
        if (predictions.Length == 0) return 0;
        int correct = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            if (predictions[i] == references[i]) correct++;
        }
        return (double)correct / predictions.Length;
    }

    /// <summary>Precision, recall and F1 with the given averaging (sklearn's precision_recall_fscore_support).</summary>
    /// <param name="posLabel">The positive class for <see cref="Average.Binary"/>.</param>
    /// <param name="labels">The classes to include (default: the sorted union of predictions and references).</param>
    public static PrecisionRecallF1 PrecisionRecallF1(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references,
        Average average = Average.Binary, int posLabel = 1, IReadOnlyList<int>? labels = null)
    {
        CheckLengths(predictions, references);
        var present = SortedUnion(predictions, references);
        if (average == Average.Binary)
        {
            if (present.Count > 2)
            {
                throw new ArgumentException(
                    $"Average.Binary needs binary labels but the data has the classes [{string.Join(", ", present)}]; use Macro, Micro or Weighted.", nameof(average));
            }
            if (present.Count == 2 && !present.Contains(posLabel))
            {
                throw new ArgumentException($"posLabel={posLabel} is not one of the classes [{string.Join(", ", present)}].", nameof(posLabel));
            }
            labels = [posLabel];
        }
        labels ??= present;
        var (tp, fp, fn) = Counts(predictions, references, labels);
        if (average == Average.Micro)
        {
            return Scores(tp.Sum(), fp.Sum(), fn.Sum());
        }
        var perClass = labels.Select((_, k) => Scores(tp[k], fp[k], fn[k])).ToArray();
        if (average == Average.Binary)
        {
            return perClass[0];
        }
        if (perClass.Length == 0) return new PrecisionRecallF1(0, 0, 0);
        if (average == Average.Macro)
        {
            return new PrecisionRecallF1(perClass.Average(s => s.Precision), perClass.Average(s => s.Recall), perClass.Average(s => s.F1));
        }
        double[] support = labels.Select((_, k) => (double)(tp[k] + fn[k])).ToArray();
        double total = support.Sum();
        if (total == 0) return new PrecisionRecallF1(0, 0, 0);
        return new PrecisionRecallF1(
            perClass.Select((s, k) => s.Precision * support[k]).Sum() / total,
            perClass.Select((s, k) => s.Recall * support[k]).Sum() / total,
            perClass.Select((s, k) => s.F1 * support[k]).Sum() / total);
    }

    public static double Precision(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references, Average average = Average.Binary, int posLabel = 1) =>
        PrecisionRecallF1(predictions, references, average, posLabel).Precision;

    public static double Recall(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references, Average average = Average.Binary, int posLabel = 1) =>
        PrecisionRecallF1(predictions, references, average, posLabel).Recall;

    public static double F1(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references, Average average = Average.Binary, int posLabel = 1) =>
        PrecisionRecallF1(predictions, references, average, posLabel).F1;

    /// <summary>The confusion matrix over <paramref name="labels"/> (default: sorted union of both inputs).</summary>
    public static ConfusionMatrix ConfusionMatrix(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references, IReadOnlyList<int>? labels = null)
    {
        CheckLengths(predictions, references);
        labels ??= SortedUnion(predictions, references);
        var index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var counts = labels.Select(_ => new int[labels.Count]).ToArray();
        for (int i = 0; i < predictions.Length; i++)
        {
            if (index.TryGetValue(references[i], out int row) && index.TryGetValue(predictions[i], out int column))
            {
                counts[row][column]++;
            }
        }
        return new ConfusionMatrix(labels.ToArray(), counts);
    }

    /// <summary>
    /// The course's metric (HF <c>evaluate.load("glue", "mrpc")</c>): {"accuracy", "f1"} from the argmax
    /// of the logits; F1 is binary for two classes and uses <paramref name="multiclassAverage"/> otherwise.
    /// </summary>
    public static ComputeMetrics AccuracyAndF1(Average multiclassAverage = Average.Macro) => prediction =>
    {
        var predicted = prediction.PredictedClassIds();
        var references = prediction.RequireLabelIds();
        return new Dictionary<string, double>
        {
            ["accuracy"] = Accuracy(predicted, references),
            ["f1"] = PrecisionRecallF1(predicted, references, AverageFor(prediction, multiclassAverage)).F1,
        };
    };

    /// <summary>accuracy, precision, recall and f1 (binary for two classes, else <paramref name="multiclassAverage"/>).</summary>
    public static ComputeMetrics All(Average multiclassAverage = Average.Macro) => prediction =>
    {
        var predicted = prediction.PredictedClassIds();
        var references = prediction.RequireLabelIds();
        var scores = PrecisionRecallF1(predicted, references, AverageFor(prediction, multiclassAverage));
        return new Dictionary<string, double>
        {
            ["accuracy"] = Accuracy(predicted, references),
            ["precision"] = scores.Precision,
            ["recall"] = scores.Recall,
            ["f1"] = scores.F1,
        };
    };

    /// <summary>
    /// HF's metric-key prefixing (Trainer.evaluate): keys not already starting with "{prefix}_" get it,
    /// keeping their order; e.g. accuracy → eval_accuracy.
    /// </summary>
    public static Dictionary<string, double> WithPrefix(IReadOnlyDictionary<string, double> metrics, string prefix = "eval")
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in metrics)
        {
            string name = key.StartsWith(prefix + "_", StringComparison.Ordinal) ? key : $"{prefix}_{key}";
            if (!result.TryAdd(name, value))
            {
                throw new ArgumentException($"Metric '{key}' collides with '{name}' after prefixing.", nameof(metrics));
            }
        }
        return result;
    }

    private static Average AverageFor(EvalPrediction prediction, Average multiclass) =>
        prediction.NumLabels <= 2 ? Average.Binary : multiclass;

    private static PrecisionRecallF1 Scores(long tp, long fp, long fn)
    {
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        // sklearn's F-beta with beta = 1: 2tp / (2tp + fn + fp), 0 when that denominator is 0.
        double f1 = 2 * tp + fn + fp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fn + fp);
        return new PrecisionRecallF1(precision, recall, f1);
    }

    private static (long[] Tp, long[] Fp, long[] Fn) Counts(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references, IReadOnlyList<int> labels)
    {
        var index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var tp = new long[labels.Count];
        var fp = new long[labels.Count];
        var fn = new long[labels.Count];
        for (int i = 0; i < predictions.Length; i++)
        {
            bool predictedKnown = index.TryGetValue(predictions[i], out int p);
            bool referenceKnown = index.TryGetValue(references[i], out int r);
            if (predictions[i] == references[i])
            {
                if (predictedKnown) tp[p]++;
                continue;
            }
            if (predictedKnown) fp[p]++;
            if (referenceKnown) fn[r]++;
        }
        return (tp, fp, fn);
    }

    private static List<int> SortedUnion(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var set = new SortedSet<int>();
        foreach (int v in a) set.Add(v);
        foreach (int v in b) set.Add(v);
        return set.ToList();
    }

    private static void CheckLengths(ReadOnlySpan<int> predictions, ReadOnlySpan<int> references)
    {
        if (predictions.Length != references.Length)
        {
            throw new ArgumentException($"{predictions.Length} predictions but {references.Length} references.");
        }
    }
}
