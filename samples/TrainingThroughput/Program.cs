// Training-step throughput of a DistilBERT-base-shaped model (random weights), the workload of
// /work/shared/reference/pure_torch_distilbert.py --bench --train: each timed step is zero_grad +
// forward (dropout on) + cross-entropy + backward + AdamW step. Prints one JSON line per setting.
//
//   dotnet run -c Release --project samples/TrainingThroughput -- --threads 2 --batch 16 --seq 128 --steps 5
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn.Optim;
using Sharpformers.Tensors;
using Sharpformers.Training;
using Sharpformers.Utils;

var options = ParseArguments(args);
int threads = options.GetValueOrDefault("threads", 2);
int batch = options.GetValueOrDefault("batch", 16);
int seq = options.GetValueOrDefault("seq", 128);
int steps = options.GetValueOrDefault("steps", 5);
int warmup = options.GetValueOrDefault("warmup", 1);
int layers = options.GetValueOrDefault("layers", 6);
KernelParallel.MaxThreads = threads;

var config = new DistilBertConfig { NLayers = layers };  // distilbert-base-uncased: dim 768, 12 heads, FFN 3072, vocab 30522
using var model = DistilBertForSequenceClassification.FromConfig(config, seed: 0);
var trainable = new TrainableSequenceClassificationModel(model);
var optimizer = new AdamW(trainable.Parameters, learningRate: 5e-5, weightDecay: 0.01);
var random = new SeededRandom(1);
var ids = new int[batch * seq];
for (int i = 0; i < ids.Length; i++) ids[i] = 1000 + random.NextInt(config.VocabSize - 1000);
var inputs = new ModelInputs(new IntTensor(ids, batch, seq), new IntTensor(Enumerable.Repeat(1, batch * seq).ToArray(), batch, seq));
var labels = new IntTensor(Enumerable.Range(0, batch).Select(i => i % 2).ToArray(), batch);
var dropout = new SeededRandom(2);

var forward = new List<double>();
var backward = new List<double>();
var step = new List<double>();
var total = new List<double>();
long allocatedBefore = 0;
for (int s = 0; s < warmup + steps; s++)
{
    if (s == warmup) allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    optimizer.ZeroGrad();
    model.TrainingForward(inputs, labels, dropout);
    double f = clock.Elapsed.TotalSeconds;
    model.Backward();
    double b = clock.Elapsed.TotalSeconds;
    optimizer.Step();
    double t = clock.Elapsed.TotalSeconds;
    if (s < warmup) continue;
    forward.Add(f);
    backward.Add(b - f);
    step.Add(t - b);
    total.Add(t);
}
long allocatedPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / Math.Max(1, steps);
double median = Median(total);
// FLOPs as the PyTorch reference counts them: 3 × forward matmuls, forward per layer and sequence 2·S·(4d² + 2·d·ff) + 4·S²·d.
double d = config.Dim, ff = config.HiddenDim;
double flops = 3.0 * layers * batch * (2 * seq * (4 * d * d + 2 * d * ff) + 4.0 * seq * seq * d);
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["workload"] = "train_step_adamw", ["model"] = $"distilbert-base shape, {layers} layers", ["threads"] = threads, ["batch"] = batch, ["seq"] = seq,
    ["steps"] = steps, ["median_s"] = Math.Round(median, 4), ["min_s"] = Math.Round(total.Min(), 4), ["max_s"] = Math.Round(total.Max(), 4),
    ["samples_per_s"] = Math.Round(batch / median, 3), ["gflops"] = Math.Round(flops / median / 1e9, 1),
    ["forward_s"] = Math.Round(Median(forward), 4), ["backward_s"] = Math.Round(Median(backward), 4), ["adamw_s"] = Math.Round(Median(step), 4),
    ["allocated_bytes_per_step"] = allocatedPerStep,
}));

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static Dictionary<string, int> ParseArguments(string[] args)
{
    var result = new Dictionary<string, int>();
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'.");
        result[args[i][2..]] = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
    return result;
}
