using System.Text;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Pipelines;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench real-data`: classify a real corpus. Two measurements:
/// <list type="bullet">
/// <item><c>mode: ids</c>: the token ids of every text (from <c>--ids FILE</c>, the JSON lines that
/// <c>sharpformers tokenize</c> writes and ../shared/reference/real_data_torch.py reads, or tokenized here
/// from <c>--data</c> with truncation to 512), model time only, the same work the PyTorch reference
/// times; ours sorted by length into batches of <c>--batch</c> with padding dropped inside the model;</item>
/// <item><c>mode: end-to-end</c> (with <c>--data</c>): texts in, labels out through the pipeline
/// (tokenization included, length-sorted batching).</item>
/// </list>
/// <c>--write-ids FILE</c> saves the ids for the reference, so both sides classify exactly the same input;
/// with <c>--only-write-ids</c> that is all it does (no model is built, nothing is timed).
/// </summary>
public sealed class RealDataBenchWorkload : IBenchWorkload
{
    public string Name => "real-data";

    public string Summary => "classify a real corpus (IMDb test reviews, truncated to 512): sequences/s, model-only and end to end";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        .. BenchModel.Options,
        BenchData.DataOption,
        BenchData.LimitOption,
        new("ids", "FILE", "real-data: JSON lines with \"input_ids\" to classify (model time only) instead of tokenizing --data"),
        new("write-ids", "FILE", "real-data: write the ids tokenized from --data as JSON lines (for real_data_torch.py --ids)"),
        new("only-write-ids", null, "real-data: write --write-ids and stop, without building a model or timing anything"),
        new("batch", "LIST", "throughput/latency/train-step: comma-separated batch sizes"),
        new("max-length", "N", "tokenizer/real-data: truncate to N tokens (real-data default 512; tokenizer default: no truncation)"),
        new("tokenizer", "DIR", "cold-start/tokenizer/real-data: folder with tokenizer files (default: the model's, or ../shared/vocab/bert-base-uncased)"),
        new("quantize", "MODE", "throughput/latency/real-data: none (float32, default) or int8 (int8 weights, dynamic activations)"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        int batchSize = BenchArguments.IntList(args, "batch", [32], min: 1)[0];
        int maxLength = args.GetInt("max-length", min: 1) ?? 512;
        if (args.Flag("only-write-ids"))
        {
            WriteIdsOnly(args, maxLength);
            yield break;
        }
        var precision = BenchModel.Precision(args);
        using var bench = BenchModel.FromArguments(args);
        bench.Model.InferencePrecision = precision;
        List<string>? texts = null;
        PreTrainedTokenizer? tokenizer = null;
        List<int[]> ids;
        if (args.Get("ids") is { } idsFile)
        {
            ids = BenchData.IdLines(idsFile, args.GetInt("limit", min: 1));
        }
        else
        {
            texts = BenchData.Texts(args);
            tokenizer = AutoTokenizer.FromPretrained(BenchModel.TokenizerFolder(args, args.Get("model")));
            ids = Tokenize(tokenizer, texts, maxLength);
            if (args.Get("write-ids") is { } output) WriteIds(output, ids);
        }
        long tokens = ids.Sum(r => (long)r.Length);
        var batches = SortedBatches(ids, batchSize);
        long paddedTokens = batches.Sum(b => b.InputIds.Length);
        long fileOrderPadded = FileOrderPaddedTokens(ids, batchSize);
        // A whole pass is long: unless --warmup is given, warm up on the shortest and longest batches only
        // (the reference warms up on its first batch).
        int warmupPasses = args.Has("warmup") ? settings.Warmup : 0;
        foreach (int threads in settings.Threads)
        {
            KernelParallel.MaxThreads = threads;
            if (!args.Has("warmup"))
            {
                foreach (var batch in batches.Take(2).Concat(batches.TakeLast(1))) bench.Model.Forward(batch);
            }
            var timing = BenchTiming.Measure(() =>
            {
                foreach (var batch in batches) bench.Model.Forward(batch);
            }, warmupPasses, settings.Repeats);
            yield return Record("ids", bench, precision, threads, timing, ids.Count, tokens, batchSize, warmupPasses)
                .Add("our_padded_tokens", paddedTokens)
                .Add("file_order_padded_tokens", fileOrderPadded)
                .Add("computed_tokens", tokens);
            if (texts is not null && tokenizer is not null)
            {
                using var classifier = PipelineFactory.Pipeline("text-classification", bench.Model, tokenizer);
                var options = new TextClassificationOptions { BatchSize = batchSize, Truncation = true, MaxLength = maxLength };
                var endToEnd = BenchTiming.Measure(() => classifier.Invoke(texts, options), warmupPasses, settings.Repeats);
                yield return Record("end-to-end", bench, precision, threads, endToEnd, texts.Count, tokens, batchSize, warmupPasses)
                    .Add("bytes", texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t)));
            }
        }
    }

    private BenchRecord Record(string mode, BenchModel bench, Nn.Inference.InferencePrecision precision, int threads, BenchTiming timing,
        int sequences, long tokens, int batchSize, int warmup) =>
        new BenchRecord()
            .Add("workload", Name)
            .Add("mode", mode)
            .Add("model", bench.Description)
            .Add("precision", BenchModel.PrecisionName(precision))
            .Add("threads", threads)
            .Add("batch", batchSize)
            .Add("sequences", sequences)
            .Add("tokens", tokens)
            .AddTiming(timing)
            .Add("seq_per_s", sequences / timing.Median)
            .Add("tokens_per_s", tokens / timing.Median)
            .Add("warmup", warmup)
            .Add("repeats", timing.Repeats);

    /// <summary>Sequences ordered by length (stable), cut into batches, each padded to its longest.</summary>
    public static List<ModelInputs> SortedBatches(List<int[]> ids, int batchSize)
    {
        var order = Enumerable.Range(0, ids.Count).OrderBy(i => ids[i].Length).ToArray();
        var batches = new List<ModelInputs>();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var rows = order.Skip(start).Take(batchSize).Select(i => (IReadOnlyList<int>)ids[i]).ToList();
            batches.Add(ModelInputs.FromIds(rows));
        }
        return batches;
    }

    /// <summary>What the reference pads: batches in file order, each to its longest.</summary>
    private static long FileOrderPaddedTokens(List<int[]> ids, int batchSize)
    {
        long total = 0;
        for (int start = 0; start < ids.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, ids.Count - start);
            total += (long)count * ids.Skip(start).Take(count).Max(r => r.Length);
        }
        return total;
    }

    /// <summary>`--only-write-ids`: tokenize --data into --write-ids, nothing else.</summary>
    private static void WriteIdsOnly(ParsedArguments args, int maxLength)
    {
        string output = args.Get("write-ids") ?? throw new CliUsageException("--only-write-ids needs --write-ids FILE");
        if (args.Has("ids")) throw new CliUsageException("--only-write-ids tokenizes --data; it cannot be combined with --ids");
        var tokenizer = AutoTokenizer.FromPretrained(BenchModel.TokenizerFolder(args, args.Get("model")));
        WriteIds(output, Tokenize(tokenizer, BenchData.Texts(args), maxLength));
    }

    /// <summary>Each text with special tokens, truncated to maxLength, as the reference pass expects.</summary>
    private static List<int[]> Tokenize(PreTrainedTokenizer tokenizer, List<string> texts, int maxLength)
    {
        var encoded = tokenizer.Call(texts, null, new EncodeOptions
        {
            AddSpecialTokens = true,
            Truncation = Truncation.LongestFirst,
            MaxLength = maxLength,
            MaxDegreeOfParallelism = Environment.ProcessorCount,
        });
        return [.. encoded.InputIds];
    }

    private static void WriteIds(string path, List<int[]> ids)
    {
        var text = new StringBuilder();
        foreach (var row in ids)
        {
            text.Append("{\"input_ids\": ").Append(JsonSerializer.Serialize(row)).Append("}\n");
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
