using Sharpformers.Nn.Optim;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;
using Sharpformers.Utils;

namespace Sharpformers.Training;

/// <summary>The bookkeeping numbers HF's Trainer logs besides losses and metrics.</summary>
public static class TrainerMetrics
{
    /// <summary>
    /// HF's speed_metrics: {split}_runtime (s, 4 decimals), {split}_samples_per_second,
    /// {split}_steps_per_second and {split}_tokens_per_second (3 decimals, from the unrounded runtime).
    /// </summary>
    public static Dictionary<string, double> SpeedMetrics(string split, TimeSpan runtime, double? numSamples = null, double? numSteps = null, double? numTokens = null)
    {
        double seconds = runtime.TotalSeconds;
        var result = new Dictionary<string, double>(StringComparer.Ordinal) { [$"{split}_runtime"] = PythonJson.Round(seconds, 4) };
        if (seconds == 0) return result;
        if (numSamples is double samples) result[$"{split}_samples_per_second"] = PythonJson.Round(samples / seconds, 3);
        if (numSteps is double steps) result[$"{split}_steps_per_second"] = PythonJson.Round(steps / seconds, 3);
        if (numTokens is double tokens) result[$"{split}_tokens_per_second"] = PythonJson.Round(tokens / seconds, 3);
        return result;
    }

    /// <summary>
    /// Parameters outside embedding tables (HF's num_parameters(exclude_embeddings=True)): parameters
    /// of modules whose name ends in "embeddings" (word/position/token_type embeddings) are left out.
    /// </summary>
    public static long NonEmbeddingParameterCount(IEnumerable<ITrainableParameter> parameters) =>
        parameters.Where(p => !IsEmbeddingTable(p.Name)).Sum(p => (long)p.Value.Length);

    /// <summary>HF's floating_point_ops estimate for one batch: 6 × input tokens (padding included) × non-embedding parameters.</summary>
    public static double FloatingPointOps(long inputTokens, long nonEmbeddingParameters) => 6.0 * inputTokens * nonEmbeddingParameters;

    private static bool IsEmbeddingTable(string name)
    {
        int lastDot = name.LastIndexOf('.');
        if (lastDot <= 0) return false;
        string module = name[..lastDot];
        return module[(module.LastIndexOf('.') + 1)..].EndsWith("embeddings", StringComparison.Ordinal);
    }
}

/// <summary>
/// Collects an evaluation's batches as HF's evaluation_loop does — logits, labels, and each batch's
/// loss weighted by its size — and turns them into the metrics dictionary: compute_metrics' keys,
/// eval_loss, all prefixed ("eval_loss", "eval_accuracy", …) in HF's order.
/// </summary>
public sealed class EvaluationAccumulator
{
    private readonly List<float> logits = [];
    private readonly List<int> labels = [];
    private readonly List<float> floatLabels = [];
    private double lossSum;
    private int lossExamples;
    private int? numLabels;

    public int NumExamples { get; private set; }

    /// <summary>Adds one batch's output.</summary>
    public void Add(CollatedBatch batch, ModelOutput output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        if (output.Logits.Length % batch.BatchSize != 0)
        {
            throw new ArgumentException($"The model returned {output.Logits.Length} logits for a batch of {batch.BatchSize}.");
        }
        int perExample = output.Logits.Length / batch.BatchSize;
        if (numLabels is int known && known != perExample)
        {
            throw new ArgumentException($"The model returned {perExample} logits per example, earlier batches had {known}.");
        }
        // A masked-LM model returns no logits (only its loss counts) and its labels are per token, not per example.
        if (perExample > 0) numLabels = perExample;
        logits.AddRange(output.Logits);
        if (batch.Labels is { } ids && ids.Length == batch.BatchSize) labels.AddRange(ids);
        if (batch.FloatLabels is { } values) floatLabels.AddRange(values);
        if (output.Loss is float loss)
        {
            // HF repeats each batch's mean loss batch_size times before averaging.
            lossSum += (double)loss * batch.BatchSize;
            lossExamples += batch.BatchSize;
        }
        NumExamples += batch.BatchSize;
    }

    /// <summary>The predictions and references gathered so far.</summary>
    public EvalPrediction Prediction() => new(
        logits.ToArray(),
        numLabels ?? 1,
        labels.Count == NumExamples && NumExamples > 0 ? labels.ToArray() : null,
        floatLabels.Count == NumExamples && NumExamples > 0 ? floatLabels.ToArray() : null);

    /// <summary>
    /// The evaluation's metrics: compute_metrics (when given and the data is labelled), then
    /// {prefix}_loss (the example-weighted mean loss, as float32), all keys prefixed.
    /// </summary>
    public Dictionary<string, double> Metrics(ComputeMetrics? computeMetrics, string prefix = "eval")
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var prediction = Prediction();
        if (computeMetrics is not null && (prediction.LabelIds is not null || prediction.FloatLabelIds is not null))
        {
            foreach (var (key, value) in computeMetrics(prediction)) metrics[key] = value;
        }
        if (lossExamples > 0) metrics[$"{prefix}_loss"] = (float)(lossSum / lossExamples);
        // HF pops each unprefixed key and re-adds it prefixed, which moves it after eval_loss.
        var ordered = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in metrics.Where(p => p.Key.StartsWith(prefix + "_", StringComparison.Ordinal))) ordered[key] = value;
        foreach (var (key, value) in metrics.Where(p => !p.Key.StartsWith(prefix + "_", StringComparison.Ordinal))) ordered[$"{prefix}_{key}"] = value;
        return ordered;
    }
}
