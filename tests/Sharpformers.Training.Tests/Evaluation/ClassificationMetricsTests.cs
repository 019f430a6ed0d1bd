using Sharpformers.Training.Evaluation;

namespace Sharpformers.Training.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    // Worked by hand with scikit-learn's definitions: per class (P, R, F1) = (1, 1, 1), (2/3, 2/3, 2/3), (2/3, 2/3, 2/3);
    // supports 2, 3, 3.
    private static readonly int[] References = [0, 1, 2, 2, 1, 0, 2, 1];
    private static readonly int[] Predictions = [0, 2, 2, 2, 1, 0, 1, 1];

    [Fact]
    public void AccuracyCountsMatches()
    {
        Assert.Equal(0.75, ClassificationMetrics.Accuracy(Predictions, References));
        Assert.Equal(0, ClassificationMetrics.Accuracy([], []));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Accuracy([1], [1, 2]));
    }

    [Fact]
    public void MulticlassAverages()
    {
        var macro = ClassificationMetrics.PrecisionRecallF1(Predictions, References, Average.Macro);
        Assert.Equal(7.0 / 9, macro.Precision, 12);
        Assert.Equal(7.0 / 9, macro.Recall, 12);
        Assert.Equal(7.0 / 9, macro.F1, 12);
        var weighted = ClassificationMetrics.PrecisionRecallF1(Predictions, References, Average.Weighted);
        Assert.Equal(0.75, weighted.F1, 12);
        var micro = ClassificationMetrics.PrecisionRecallF1(Predictions, References, Average.Micro);
        Assert.Equal(new PrecisionRecallF1(0.75, 0.75, 0.75), micro);
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.F1(Predictions, References));
        Assert.Contains("[0, 1, 2]", e.Message);
    }

    [Fact]
    public void BinaryWithPositiveLabelAndZeroDivision()
    {
        int[] refs = [1, 1, 1, 0];
        int[] preds = [1, 0, 0, 0];
        var pos = ClassificationMetrics.PrecisionRecallF1(preds, refs);
        Assert.Equal(1.0, pos.Precision);
        Assert.Equal(1.0 / 3, pos.Recall, 12);
        Assert.Equal(0.5, pos.F1, 12);
        // posLabel 0: tp 1, fp 2, fn 0.
        var neg = ClassificationMetrics.PrecisionRecallF1(preds, refs, posLabel: 0);
        Assert.Equal(1.0 / 3, neg.Precision, 12);
        Assert.Equal(1.0, neg.Recall);
        Assert.Equal(0.5, neg.F1, 12);
        Assert.Equal(new PrecisionRecallF1(0, 0, 0), ClassificationMetrics.PrecisionRecallF1([0, 0], [0, 0]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.F1([0, 2], [2, 0], posLabel: 1));
    }

    [Fact]
    public void ConfusionMatrixRowsAreReferences()
    {
        var matrix = ClassificationMetrics.ConfusionMatrix(Predictions, References);
        Assert.Equal([0, 1, 2], matrix.Labels);
        Assert.Equal([2, 0, 0], matrix.Counts[0]);
        Assert.Equal([0, 2, 1], matrix.Counts[1]);
        Assert.Equal([0, 1, 2], matrix.Counts[2]);
        Assert.Equal("[2 0 0]\n[0 2 1]\n[0 1 2]", matrix.ToString());
        var fixedLabels = ClassificationMetrics.ConfusionMatrix([1], [1], labels: [0, 1]);
        Assert.Equal([0, 1], fixedLabels.Counts[1]);
    }

    [Fact]
    public void ComputeMetricsHookUsesArgmaxAndPrefixes()
    {
        // Logits (4, 2): argmax → 1, 0, 1, 1 (ties take the first).
        var prediction = new EvalPrediction([0.1f, 0.9f, 2f, -1f, -3f, 3f, 0.5f, 0.5f], numLabels: 2, labelIds: [1, 0, 0, 0]);
        Assert.Equal([1, 0, 1, 0], prediction.PredictedClassIds());
        var metrics = ClassificationMetrics.AccuracyAndF1()(prediction);
        Assert.Equal(0.75, metrics["accuracy"]);
        // tp 1, fp 1, fn 0 → F1 = 2/3.
        Assert.Equal(2.0 / 3, metrics["f1"], 12);
        var prefixed = ClassificationMetrics.WithPrefix(new Dictionary<string, double> { ["accuracy"] = 1, ["eval_f1"] = 0.5 });
        Assert.Equal(["eval_accuracy", "eval_f1"], prefixed.Keys);
        var all = ClassificationMetrics.All()(prediction);
        Assert.Equal(["accuracy", "precision", "recall", "f1"], all.Keys);
        Assert.Equal(0.5, all["precision"], 12);

        var unlabelled = new EvalPrediction([0f, 1f], 2, labelIds: null);
        Assert.Throws<InvalidOperationException>(() => ClassificationMetrics.AccuracyAndF1()(unlabelled));
        Assert.Throws<ArgumentException>(() => new EvalPrediction([0f, 1f, 2f], 2, null));
    }
}
