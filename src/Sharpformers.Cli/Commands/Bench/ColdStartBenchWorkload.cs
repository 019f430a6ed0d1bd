using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Pipelines;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench cold-start`: what a user waits for the first time: a new process (runtime start, JIT) loads a
/// model folder and classifies one text. Each repeat starts this same executable as a child
/// (`bench cold-start --child DIR`), timed from just before the process starts until it exits; the
/// child reports its own load and classification times and its peak resident memory (VmHWM from
/// /proc/self/status), which is compared with the size of the weights file.
/// For <c>--shape</c> the random model is first saved as a folder (with the tokenizer files of
/// <c>--tokenizer DIR</c>), so the child loads a real safetensors checkpoint.
/// </summary>
public sealed class ColdStartBenchWorkload : IBenchWorkload
{
    private const string Sentence = "I've been waiting for a HuggingFace course my whole life.";

    public string Name => "cold-start";

    public string Summary => "new process → load a model folder → classify one text: wall time and peak RSS";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        .. BenchModel.Options,
        new("tokenizer", "DIR", "cold-start/tokenizer/real-data: folder with tokenizer files (default: the model's, or ../shared/vocab/bert-base-uncased)"),
        new("child", "DIR", "cold-start: internal, the measured child process"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        if (args.Get("child") is { } childFolder)
        {
            yield return Child(childFolder);
            yield break;
        }
        string? temporary = null;
        string folder;
        string description;
        if (args.Get("model") is { } model)
        {
            folder = Path.GetFullPath(model);
            description = folder;
        }
        else
        {
            (folder, description) = BenchModel.SaveRandomFolder(args);
            temporary = folder;
        }
        try
        {
            string weights = Path.Combine(folder, "model.safetensors");
            long weightBytes = File.Exists(weights) ? new FileInfo(weights).Length : 0;
            foreach (int threads in settings.Threads)
            {
                for (int i = 0; i < settings.Warmup; i++) RunChild(folder, threads);
                var wall = new double[settings.Repeats];
                var load = new double[settings.Repeats];
                var classify = new double[settings.Repeats];
                var peak = new double[settings.Repeats];
                for (int i = 0; i < settings.Repeats; i++)
                {
                    var (seconds, report) = RunChild(folder, threads);
                    wall[i] = seconds;
                    load[i] = report.GetProperty("load_s").GetDouble();
                    classify[i] = report.GetProperty("classify_s").GetDouble();
                    peak[i] = report.GetProperty("peak_rss_bytes").GetInt64();
                }
                var timing = BenchTiming.FromSamples(wall, []);
                double peakMedian = BenchTiming.FromSamples(peak, []).Median;
                yield return new BenchRecord()
                    .Add("workload", Name)
                    .Add("model", description)
                    .Add("threads", threads)
                    .AddTiming(timing)
                    .Add("load_median_s", BenchTiming.FromSamples(load, []).Median)
                    .Add("classify_median_s", BenchTiming.FromSamples(classify, []).Median)
                    .Add("peak_rss_mb", peakMedian / 1e6)
                    .Add("peak_rss_max_mb", peak.Max() / 1e6)
                    .Add("weights_mb", weightBytes / 1e6)
                    .Add("rss_over_weights", weightBytes > 0 ? peakMedian / weightBytes : 0.0)
                    .Add("warmup", settings.Warmup)
                    .Add("repeats", timing.Repeats);
            }
        }
        finally
        {
            if (temporary is not null) Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>Starts the child and waits for it; returns the wall seconds and its JSON report.</summary>
    private static (double Seconds, JsonElement Report) RunChild(string folder, int threads)
    {
        var start = SelfStartInfo();
        start.ArgumentList.Add("bench");
        start.ArgumentList.Add("cold-start");
        start.ArgumentList.Add("--child");
        start.ArgumentList.Add(folder);
        start.Environment["SHARPFORMERS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        long t0 = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the cold-start child process");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the cold-start child failed (exit {process.ExitCode}): {error.Trim()}");
        }
        using var document = JsonDocument.Parse(output.Trim());
        return (seconds, document.RootElement.Clone());
    }

    /// <summary>This executable (the apphost, or `dotnet sharpformers.dll`).</summary>
    internal static ProcessStartInfo SelfStartInfo()
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable's path");
        var info = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(typeof(ColdStartBenchWorkload).Assembly.Location);
        }
        return info;
    }

    /// <summary>The measured work: load the folder, classify one text, report.</summary>
    private static BenchRecord Child(string folder)
    {
        double sinceStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        long t0 = Stopwatch.GetTimestamp();
        using var classifier = PipelineFactory.Pipeline("text-classification", model: folder, modelOptions: new Models.FromPretrainedOptions { Log = _ => { } });
        double load = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long t1 = Stopwatch.GetTimestamp();
        var result = classifier.Invoke(Sentence);
        double classify = Stopwatch.GetElapsedTime(t1).TotalSeconds;
        return new BenchRecord()
            .Add("label", result.Label)
            .Add("score", (double)result.Score)
            .Add("runtime_start_s", sinceStart)
            .Add("load_s", load)
            .Add("classify_s", classify)
            .Add("peak_rss_bytes", ProcStatus("VmHWM"))
            .Add("rss_bytes", ProcStatus("VmRSS"));
    }

    /// <summary>A "Name:   N kB" line of /proc/self/status in bytes (0 where there is no /proc).</summary>
    internal static long ProcStatus(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return 0;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
