using System.Text;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Tokenizers;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench tokenizer`: encodes every text of --data (the 25,000 IMDb test reviews by default) in one
/// batch call (special tokens on, no truncation or padding, as the reference measurements of HF's
/// tokenizers), with 1 and 2 encoding threads; MB/s of UTF-8 input.
/// </summary>
public sealed class TokenizerBenchWorkload : IBenchWorkload
{
    public string Name => "tokenizer";

    public string Summary => "tokenizer throughput on real text (IMDb reviews): MB/s per thread count";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        BenchData.DataOption,
        BenchData.LimitOption,
        new("tokenizer", "DIR", "cold-start/tokenizer/real-data: folder with tokenizer files (default: the model's, or ../shared/vocab/bert-base-uncased)"),
        new("model", "DIR", "model workloads: a model folder to load (default: a random --shape model)"),
        new("max-length", "N", "tokenizer/real-data: truncate to N tokens (real-data default 512; tokenizer default: no truncation)"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        string folder = BenchModel.TokenizerFolder(args, args.Get("model"));
        var tokenizer = AutoTokenizer.FromPretrained(folder);
        var texts = BenchData.Texts(args);
        int? maxLength = args.GetInt("max-length", min: 1);
        long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
        long tokens = 0;
        foreach (int threads in settings.Threads)
        {
            var options = new EncodeOptions
            {
                AddSpecialTokens = true,
                Truncation = maxLength is null ? Truncation.None : Truncation.LongestFirst,
                MaxLength = maxLength,
                MaxDegreeOfParallelism = threads,
            };
            var timing = BenchTiming.Measure(() =>
            {
                var encoded = tokenizer.Call(texts, null, options);
                tokens = encoded.InputIds.Sum(row => (long)row.Length);
            }, settings.Warmup, settings.Repeats);
            yield return new BenchRecord()
                .Add("workload", Name)
                .Add("tokenizer", tokenizer.TokenizerClass + (tokenizer.IsFast ? " (tokenizer.json)" : " (vocabulary files)"))
                .Add("threads", threads)
                .AddTiming(timing)
                .Add("mb_per_s", bytes / timing.Median / 1e6)
                .Add("mb_per_s_per_thread", bytes / timing.Median / 1e6 / threads)
                .Add("best_mb_per_s", bytes / timing.Min / 1e6)
                .Add("texts", texts.Count)
                .Add("bytes", bytes)
                .Add("tokens", tokens)
                .Add("tokens_per_s", tokens / timing.Median)
                .Add("warmup", settings.Warmup)
                .Add("repeats", timing.Repeats);
        }
    }
}
