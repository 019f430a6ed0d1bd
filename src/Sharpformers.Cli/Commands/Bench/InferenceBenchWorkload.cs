using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench throughput` (batch 32 × 128 tokens by default) and `bench latency` (batch 1 × 16 and 128
/// tokens): one classification forward pass (logits) on random ids with an all-ones mask, timed per
/// call, for each batch × sequence length × thread count. The same measurement as the reference's
/// <c>pure_torch_distilbert.py --bench</c>; GFLOP/s use its FLOP formula.
/// </summary>
public sealed class InferenceBenchWorkload(string name, string summary, int[] defaultBatches, int[] defaultSeqs) : IBenchWorkload
{
    public static InferenceBenchWorkload Throughput { get; } =
        new("throughput", "classification forward passes, batch 32 × 128 tokens: sequences/s and GFLOP/s", [32], [128]);

    public static InferenceBenchWorkload Latency { get; } =
        new("latency", "classification forward passes, batch 1 × 16 and 128 tokens: milliseconds per call", [1], [16, 128]);

    public string Name => name;

    public string Summary => summary;

    public IReadOnlyList<CliOption> Options { get; } =
    [
        .. BenchModel.Options,
        new("batch", "LIST", "throughput/latency/train-step: comma-separated batch sizes"),
        new("seq", "LIST", "throughput/latency/train-step: comma-separated sequence lengths in tokens"),
        new("quantize", "MODE", "throughput/latency/real-data: none (float32, default) or int8 (int8 weights, dynamic activations)"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        var batches = BenchArguments.IntList(args, "batch", defaultBatches, min: 1);
        var seqs = BenchArguments.IntList(args, "seq", defaultSeqs, min: 1);
        var precision = BenchModel.Precision(args);
        int seed = args.GetInt("seed", min: 0) ?? 0;
        using var bench = BenchModel.FromArguments(args);
        bench.Model.InferencePrecision = precision;
        foreach (int batch in batches)
        {
            foreach (int seq in seqs)
            {
                var inputs = bench.RandomInputs(batch, seq, seed);
                double flops = bench.ForwardFlops(batch, seq);
                foreach (int threads in settings.Threads)
                {
                    KernelParallel.MaxThreads = threads;
                    var timing = BenchTiming.Measure(() => bench.Model.Forward(inputs), settings.Warmup, settings.Repeats);
                    yield return new BenchRecord()
                        .Add("workload", Name)
                        .Add("model", bench.Description)
                        .Add("precision", BenchModel.PrecisionName(precision))
                        .Add("threads", threads)
                        .Add("batch", batch)
                        .Add("seq", seq)
                        .AddTiming(timing)
                        .Add("latency_ms", timing.Median * 1e3)
                        .Add("seq_per_s", batch / timing.Median)
                        .Add("tokens_per_s", (double)batch * seq / timing.Median)
                        .Add("gflop", flops / 1e9)
                        .Add("gflops", flops / timing.Median / 1e9)
                        .Add("warmup", settings.Warmup)
                        .Add("repeats", timing.Repeats);
                }
            }
        }
    }
}
