using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers bench WORKLOAD ...`: times a workload for each requested thread count (warm-up runs,
/// then timed repeats; median/min/max) and writes one JSON line per measurement, so results can be
/// compared side by side with the PyTorch reference (../shared/reference) and pasted into BENCHMARKS.md.
/// Workloads plug in through <see cref="IBenchWorkload"/>; model workloads (throughput, latency,
/// training step, cold start, tokenizer) join <see cref="Workloads"/> beside <c>sgemm</c>.
/// </summary>
public sealed class BenchCommand : ICliCommand
{
    private static readonly CliOption[] CommonOptions =
    [
        new("threads", "LIST", "comma-separated thread counts to measure (default: 1,2)"),
        new("repeats", "N", "timed runs per measurement; the median is reported (default: 10)"),
        new("warmup", "N", "untimed runs before timing (default: 2)"),
        new("output", "FILE", "also write the JSON lines to FILE (replaced atomically)"),
    ];

    /// <summary>Every workload, in the order help lists them.</summary>
    public static IReadOnlyList<IBenchWorkload> Workloads { get; } =
        [new SgemmBenchWorkload(), Bench.InferenceBenchWorkload.Throughput, Bench.InferenceBenchWorkload.Latency, new Bench.TrainStepBenchWorkload(),
            new Bench.ColdStartBenchWorkload(), new Bench.TokenizerBenchWorkload(), new Bench.RealDataBenchWorkload(), new Bench.AccuracyBenchWorkload()];

    public string Name => "bench";

    public string Summary =>
        $"Benchmark kernels and models ({string.Join(", ", Workloads.Select(w => w.Name))}); one JSON line per measurement";

    public string Usage =>
        $"WORKLOAD [--threads 1,2] [--repeats N] [--warmup N] [--output FILE] [workload options]  (WORKLOAD: {string.Join(" | ", Workloads.Select(w => w.Name))})";

    public IReadOnlyList<CliOption> Options { get; } =
        [.. CommonOptions, .. Workloads.SelectMany(w => w.Options).DistinctBy(o => o.Name)];

    public int Run(ParsedArguments args, CliContext context)
    {
        if (args.Positionals.Count != 1)
        {
            throw new CliUsageException(args.Positionals.Count == 0
                ? $"name a workload: {string.Join(", ", Workloads.Select(w => w.Name))}"
                : $"expected one workload, got {args.Positionals.Count}: {string.Join(" ", args.Positionals)}");
        }
        string name = args.Positionals[0];
        var workload = Workloads.FirstOrDefault(w => w.Name == name)
            ?? throw new CliUsageException($"unknown workload '{name}'; workloads: {string.Join(", ", Workloads.Select(w => w.Name))}");
        foreach (var other in Workloads.Where(w => w != workload))
        {
            foreach (var option in other.Options.Where(o => args.Has(o.Name) && !workload.Options.Any(mine => mine.Name == o.Name)))
            {
                throw new CliUsageException($"option '--{option.Name}' belongs to the '{other.Name}' workload, not '{workload.Name}'");
            }
        }
        var settings = new BenchSettings(
            Threads: BenchArguments.IntList(args, "threads", [1, 2], min: 1),
            Repeats: args.GetInt("repeats", min: 1) ?? 10,
            Warmup: args.GetInt("warmup", min: 0) ?? 2);
        string? output = args.Get("output");

        var lines = new StringBuilder();
        int savedThreads = KernelParallel.MaxThreads;
        try
        {
            foreach (var record in workload.Run(args, settings))
            {
                string line = record.ToJson();
                context.Out.WriteLine(line);
                context.Out.Flush();
                lines.Append(line).Append('\n');
            }
        }
        finally
        {
            KernelParallel.MaxThreads = savedThreads;
        }
        if (output is not null) AtomicFile.WriteAllText(output, lines.ToString());
        return CliApp.Success;
    }
}

/// <summary>What every workload is told: thread counts to sweep, timed repeats, warm-up runs.</summary>
public sealed record BenchSettings(IReadOnlyList<int> Threads, int Repeats, int Warmup);

/// <summary>One benchmark family of `sharpformers bench`.</summary>
public interface IBenchWorkload
{
    /// <summary>The WORKLOAD argument, e.g. "sgemm".</summary>
    string Name { get; }

    string Summary { get; }

    /// <summary>Options only this workload accepts.</summary>
    IReadOnlyList<CliOption> Options { get; }

    /// <summary>Runs the measurements, yielding each result as soon as it is taken.</summary>
    IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings);
}

/// <summary>One output line: fields in insertion order, written as a flat JSON object.</summary>
public sealed class BenchRecord
{
    private readonly List<KeyValuePair<string, object>> fields = [];

    public IReadOnlyList<KeyValuePair<string, object>> Fields => fields;

    public BenchRecord Add(string name, object value)
    {
        fields.Add(new(name, value));
        return this;
    }

    /// <summary>Adds median_s, min_s and max_s.</summary>
    public BenchRecord AddTiming(BenchTiming timing) =>
        Add("median_s", timing.Median).Add("min_s", timing.Min).Add("max_s", timing.Max).Add("cpu_median_s", timing.CpuMedian);

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                switch (value)
                {
                    case string s: writer.WriteString(name, s); break;
                    case bool b: writer.WriteBoolean(name, b); break;
                    case int i: writer.WriteNumber(name, i); break;
                    case long l: writer.WriteNumber(name, l); break;
                    case double d: writer.WriteNumber(name, Math.Round(d, 9, MidpointRounding.AwayFromZero)); break;
                    default: throw new InvalidOperationException($"Bench field '{name}' has unsupported type {value.GetType().Name}.");
                }
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// Seconds per run over the timed repeats, wall clock, and the process's CPU seconds per run (user +
/// system, all threads): on a shared machine a one-thread run's CPU time is what it would take alone,
/// so it tells a slow run from a descheduled one.
/// </summary>
public readonly record struct BenchTiming(double Median, double Min, double Max, int Repeats, double CpuMedian)
{
    /// <summary>Runs <paramref name="run"/> warmup times untimed, then repeats times, each timed alone.</summary>
    public static BenchTiming Measure(Action run, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) run();
        var seconds = new double[repeats];
        var cpu = new double[repeats];
        using var process = Process.GetCurrentProcess();
        for (int i = 0; i < repeats; i++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            run();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            cpu[i] = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        return FromSamples(seconds, cpu);
    }

    /// <summary>Median/min/max of wall-clock samples (and the median of the matching CPU samples).</summary>
    public static BenchTiming FromSamples(double[] seconds, double[] cpuSeconds)
    {
        int repeats = seconds.Length;
        var sorted = (double[])seconds.Clone();
        Array.Sort(sorted);
        var cpuSorted = (double[])cpuSeconds.Clone();
        Array.Sort(cpuSorted);
        return new BenchTiming(MedianOf(sorted), sorted[0], sorted[^1], repeats, cpuSorted.Length == 0 ? 0 : MedianOf(cpuSorted));
    }

    /// <summary>The median of unsorted samples (0 when there are none): per-phase timings of a workload.</summary>
    public static double SampleMedian(IEnumerable<double> samples)
    {
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        return sorted.Length == 0 ? 0 : MedianOf(sorted);
    }

    private static double MedianOf(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>Parsing shared by the workloads.</summary>
public static class BenchArguments
{
    public static IReadOnlyList<int> IntList(ParsedArguments args, string name, IReadOnlyList<int> defaults, int min)
    {
        string? raw = args.Get(name);
        if (raw is null) return defaults;
        var values = new List<int>();
        foreach (string part in raw.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            {
                throw new CliUsageException($"option '--{name}' expects comma-separated integers of at least {min}, got '{raw}'");
            }
            values.Add(value);
        }
        return values;
    }
}

/// <summary>
/// `bench sgemm`: C = A·B (row-major, beta 0) on random matrices, for each size and thread count;
/// GFLOP/s = 2·m·n·k / median seconds. A size is N (an N×N×N cube) or MxNxK.
/// </summary>
public sealed class SgemmBenchWorkload : IBenchWorkload
{
    public string Name => "sgemm";

    public string Summary => "single-precision matrix multiply, GFLOP/s per size and thread count";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("sizes", "LIST", "sgemm: comma-separated N (cube) or MxNxK (default: 512,1024,2048)"),
        new("trans", "XY", "sgemm: transposes of A and B, N or T each (default: NN; weights are NT)"),
        new("packed", null, "sgemm: pre-pack B once outside the timing (the weight path)"),
        new("int8", null, "sgemm: the dynamic int8 product instead (B quantized once as a weight, A per call; implies NT and packed)"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        var sizes = ParseSizes(args.Get("sizes") ?? "512,1024,2048");
        string trans = (args.Get("trans") ?? "NN").ToUpperInvariant();
        if (trans.Length != 2 || trans.Any(ch => ch is not ('N' or 'T')))
        {
            throw new CliUsageException($"option '--trans' expects two letters N or T (e.g. NN, NT), got '{args.Get("trans")}'");
        }
        var transA = trans[0] == 'T' ? Transpose.Yes : Transpose.No;
        var transB = trans[1] == 'T' ? Transpose.Yes : Transpose.No;
        bool int8 = args.Flag("int8");
        bool packed = args.Flag("packed") || int8;
        if (int8) (trans, transA, transB) = ("NT", Transpose.No, Transpose.Yes);
        var rng = new Random(1234);
        foreach (var (m, n, k) in sizes)
        {
            int lda = transA == Transpose.No ? k : m;
            int ldb = transB == Transpose.No ? n : k;
            var a = RandomMatrix(rng, (long)m * k);
            var b = RandomMatrix(rng, (long)k * n);
            var c = new float[checked(m * n)];
            var packedB = packed && !int8 ? Gemm.PackB(transB, k, n, b, ldb) : null;
            var quantizedB = int8 ? QuantizedMatrix.QuantizeWeights(b, n, k) : null;
            foreach (int threads in settings.Threads)
            {
                KernelParallel.MaxThreads = threads;
                var timing = BenchTiming.Measure(() =>
                {
                    if (quantizedB is not null) QuantizedGemm.Gemm(m, n, k, a, lda, quantizedB, [], 0f, c, n);
                    else if (packedB is not null) Gemm.Sgemm(transA, m, n, k, 1f, a, lda, packedB, 0f, c, n);
                    else Gemm.Sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
                }, settings.Warmup, settings.Repeats);
                yield return new BenchRecord()
                    .Add("workload", Name)
                    .Add("m", m).Add("n", n).Add("k", k)
                    .Add("threads", threads)
                    .AddTiming(timing)
                    .Add("gflops", 2.0 * m * n * k / timing.Median / 1e9)
                    .Add("trans", trans)
                    .Add("packed", packed)
                    .Add("precision", int8 ? "int8" : "fp32")
                    .Add("isa", Gemm.Isa.ToString())
                    .Add("repeats", timing.Repeats);
            }
        }
    }

    private static List<(int M, int N, int K)> ParseSizes(string raw)
    {
        var sizes = new List<(int, int, int)>();
        foreach (string part in raw.Split(',', StringSplitOptions.TrimEntries))
        {
            var dims = part.Split('x', 'X');
            var parsed = new int[dims.Length];
            bool ok = dims.Length is 1 or 3;
            for (int i = 0; ok && i < dims.Length; i++)
            {
                ok = int.TryParse(dims[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out parsed[i]) && parsed[i] >= 1 && parsed[i] <= 16384;
            }
            if (!ok)
            {
                throw new CliUsageException($"option '--sizes' expects N or MxNxK entries between 1 and 16384, got '{part}'");
            }
            sizes.Add(dims.Length == 1 ? (parsed[0], parsed[0], parsed[0]) : (parsed[0], parsed[1], parsed[2]));
        }
        return sizes;
    }

    private static float[] RandomMatrix(Random rng, long length)
    {
        var x = new float[length];
        for (long i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
