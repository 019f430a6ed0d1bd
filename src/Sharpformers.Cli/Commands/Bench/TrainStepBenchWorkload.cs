using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Nn.Optim;
using Sharpformers.Tensors;
using Sharpformers.Training;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench train-step` (batch 16 × 128 tokens by default): one full training step of a classification
/// model, the reference's <c>pure_torch_distilbert.py --bench --train</c>: zero the gradients, forward
/// with dropout on, cross-entropy, backward, AdamW step (lr 5e-5, weight decay 0.01). GFLOP/s count a
/// step as three forward passes (the reference's convention). Also reports the forward, backward and
/// optimizer medians and the bytes allocated per step, which should stay near zero in steady state.
/// </summary>
public sealed class TrainStepBenchWorkload : IBenchWorkload
{
    public string Name => "train-step";

    public string Summary => "training steps (forward + backward + AdamW), batch 16 × 128 tokens: samples/s";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        .. BenchModel.Options,
        new("batch", "LIST", "throughput/latency/train-step: comma-separated batch sizes"),
        new("seq", "LIST", "throughput/latency/train-step: comma-separated sequence lengths in tokens"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        var batches = BenchArguments.IntList(args, "batch", [16], min: 1);
        var seqs = BenchArguments.IntList(args, "seq", [128], min: 1);
        int seed = args.GetInt("seed", min: 0) ?? 0;
        using var bench = BenchModel.FromArguments(args);
        var model = bench.Model;
        if (!model.SupportsTraining) throw new CliUsageException($"{model.ClassName} has no backward pass; train-step needs BERT or DistilBERT");
        var trainable = new TrainableSequenceClassificationModel(model);
        var optimizer = new AdamW(trainable.Parameters, learningRate: 5e-5, weightDecay: 0.01);
        foreach (int batch in batches)
        {
            foreach (int seq in seqs)
            {
                var inputs = bench.RandomInputs(batch, seq, seed);
                var labels = new IntTensor(Enumerable.Range(0, batch).Select(i => i % bench.NumLabels).ToArray(), batch);
                double flops = 3 * bench.ForwardFlops(batch, seq);
                foreach (int threads in settings.Threads)
                {
                    KernelParallel.MaxThreads = threads;
                    var dropout = new SeededRandom(unchecked((ulong)seed + 2));
                    var forward = new List<double>();
                    var backward = new List<double>();
                    var step = new List<double>();
                    long allocated = 0;
                    int run = 0;
                    var timing = BenchTiming.Measure(() =>
                    {
                        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
                        long start = System.Diagnostics.Stopwatch.GetTimestamp();
                        optimizer.ZeroGrad();
                        model.TrainingForward(inputs, labels, dropout);
                        double f = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                        model.Backward();
                        double b = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                        optimizer.Step();
                        double s = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                        // The warm-up runs come first; keep only the timed ones' phases.
                        if (run++ >= settings.Warmup)
                        {
                            forward.Add(f);
                            backward.Add(b - f);
                            step.Add(s - b);
                            allocated += GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
                        }
                    }, settings.Warmup, settings.Repeats);
                    yield return new BenchRecord()
                        .Add("workload", Name)
                        .Add("model", bench.Description)
                        .Add("threads", threads)
                        .Add("batch", batch)
                        .Add("seq", seq)
                        .AddTiming(timing)
                        .Add("samples_per_s", batch / timing.Median)
                        .Add("gflop", flops / 1e9)
                        .Add("gflops", flops / timing.Median / 1e9)
                        .Add("forward_s", BenchTiming.SampleMedian(forward))
                        .Add("backward_s", BenchTiming.SampleMedian(backward))
                        .Add("adamw_s", BenchTiming.SampleMedian(step))
                        .Add("allocated_bytes_per_step", allocated / Math.Max(1, forward.Count))
                        .Add("warmup", settings.Warmup)
                        .Add("repeats", timing.Repeats);
                }
            }
        }
    }
}
