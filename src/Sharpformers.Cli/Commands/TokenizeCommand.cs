using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Tokenizers;
using Encoding = System.Text.Encoding;
using TokenEncoding = Sharpformers.Tokenizers.Encoding;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers tokenize --model DIR`: JSON lines in ({"text": ...} or {"text": ..., "text_pair": ...}), one
/// JSON line out per input, in order: {"input_ids", "token_type_ids", "attention_mask", "tokens"}.
/// token_type_ids are always written (as Python's return_token_type_ids=True would), also for models that
/// do not take them (RoBERTa, DistilBERT): 0 for the first sequence, 1 for the pair. Streams: lines are read, encoded and written in batches, so a whole dataset
/// goes through in one call. With --padding longest the batch is the whole input (as a Python call on the
/// list would pad it), so output waits for the end of the input.
/// </summary>
public sealed class TokenizeCommand : ICliCommand
{
    private const int BatchSize = 512;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Name => "tokenize";

    public string Summary => "Tokenize JSON lines from stdin ({\"text\": ..., \"text_pair\": ...}) into input_ids, masks and tokens";

    public string Usage => "--model DIR|REPO_ID [--max-length N] [--truncation [STRATEGY]] [--padding longest|max_length] [--no-special-tokens] < input.jsonl";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "DIR|REPO_ID", "Folder with the tokenizer files (tokenizer.json, vocab.txt, vocab.json + merges.txt, *.model), or a Hub repo id"),
        new("max-length", "N", "Maximum length in tokens, special tokens included (default: the model's, where needed)"),
        new("truncation", "STRATEGY", "Truncate: longest_first (the default when no strategy follows), only_first, only_second", ValueOptional: true),
        new("padding", "STRATEGY", "Pad: longest (to the longest input; output waits for the end of input) or max_length"),
        new("no-special-tokens", null, "Do not add [CLS]/[SEP] or <s>/</s>"),
        new("threads", "N", "Threads used to encode each batch (default: all cores)"),
        new("slow", null, "Build from the vocabulary files even when tokenizer.json exists"),
        new("benchmark", "FILE", "Developer option: time single-thread encoding of FILE (the IMDb .tar.gz: its 25,000 test reviews; or a text file, one text a line) and print MB/s"),
        .. HubCliOptions.Options,
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        string model = args.Require("model");
        if (args.Positionals.Count > 0)
        {
            throw new CliUsageException($"unexpected argument '{args.Positionals[0]}' (the texts are read from stdin as JSON lines)");
        }
        var options = ReadOptions(args);
        var tokenizer = AutoTokenizer.FromPretrained(model, new TokenizerLoadOptions(HubCliOptions.Read(args, context)) { UseFast = !args.Flag("slow") });
        if (args.Get("benchmark") is { } benchmarkFile) return Benchmark(tokenizer, benchmarkFile, options, context);
        // Resolve the strategies once so a bad combination fails before any input is read.
        _ = tokenizer.Call([""], null, options);
        var input = context.InputStream ?? new MemoryStream(Encoding.UTF8.GetBytes(context.In.ReadToEnd()));
        return Stream(tokenizer, options, input, context.Out);
    }

    private static EncodeOptions ReadOptions(ParsedArguments args)
    {
        int? maxLength = args.GetInt("max-length", min: 1);
        var truncation = Truncation.Unspecified;
        if (args.Has("truncation"))
        {
            string value = args.Get("truncation")!;
            truncation = value.Length == 0 ? Truncation.LongestFirst : ParseChoice(value, "truncation", Truncation.Parse,
                "longest_first", "only_first", "only_second");
        }
        var padding = Padding.None;
        if (args.Get("padding") is { } p) padding = ParseChoice(p, "padding", Padding.Parse, "longest", "max_length");
        int threads = args.GetInt("threads", min: 1) ?? Environment.ProcessorCount;
        return new EncodeOptions
        {
            AddSpecialTokens = !args.Flag("no-special-tokens"),
            Padding = padding,
            Truncation = truncation,
            MaxLength = maxLength,
            MaxDegreeOfParallelism = threads,
        };
    }

    private static T ParseChoice<T>(string value, string option, Func<string, T> parse, params string[] allowed)
    {
        if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
        {
            throw new CliUsageException($"option '--{option}' expects one of {string.Join(", ", allowed)}; got '{value}'");
        }
        return parse(value);
    }

    private static int Stream(PreTrainedTokenizer tokenizer, EncodeOptions options, Stream input, TextWriter output)
    {
        bool padLongest = options.Padding.Strategy == PaddingStrategy.Longest;
        // With longest padding, encode without it (truncation as asked) and pad everything at the end.
        var encodeOptions = padLongest
            ? options with { Padding = PaddingStrategy.DoNotPad, Truncation = options.Truncation.Strategy is null ? Truncation.None : options.Truncation }
            : options;
        var held = padLongest ? new List<TokenEncoding>() : null;
        var batch = new List<(string Text, string? Pair)>(BatchSize);
        var reader = new JsonLineReader(input);
        while (reader.TryReadLine(out var line, out long lineNumber))
        {
            if (IsBlank(line)) continue;
            batch.Add(ParseLine(line, lineNumber));
            if (batch.Count == BatchSize) Flush();
        }
        Flush();
        if (held is not null)
        {
            var padded = tokenizer.Pad(held, PaddingStrategy.Longest, padToMultipleOf: options.PadToMultipleOf);
            Write(padded.Encodings, output);
        }
        output.Flush();
        return CliApp.Success;

        void Flush()
        {
            if (batch.Count == 0) return;
            var encodings = EncodeInOrder(tokenizer, batch, encodeOptions);
            if (held is not null) held.AddRange(encodings);
            else Write(encodings, output);
            batch.Clear();
        }
    }

    /// <summary>Encodes a batch, keeping input order; runs of single texts and of pairs are encoded together.</summary>
    private static List<TokenEncoding> EncodeInOrder(PreTrainedTokenizer tokenizer, List<(string Text, string? Pair)> batch, EncodeOptions options)
    {
        var result = new List<TokenEncoding>(batch.Count);
        int start = 0;
        while (start < batch.Count)
        {
            bool isPair = batch[start].Pair is not null;
            int end = start;
            while (end < batch.Count && (batch[end].Pair is not null) == isPair) end++;
            var texts = batch.GetRange(start, end - start).Select(b => b.Text).ToList();
            var pairs = isPair ? batch.GetRange(start, end - start).Select(b => b.Pair!).ToList() : null;
            result.AddRange(tokenizer.Call(texts, pairs, options).Encodings);
            start = end;
        }
        return result;
    }

    private static void Write(IReadOnlyList<TokenEncoding> encodings, TextWriter output)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(encodings.Count * 256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            foreach (var e in encodings)
            {
                writer.WriteStartObject();
                WriteInts(writer, "input_ids", e.Ids);
                WriteInts(writer, "token_type_ids", e.TypeIds);
                WriteInts(writer, "attention_mask", e.AttentionMask);
                writer.WriteStartArray("tokens");
                foreach (string t in e.Tokens) writer.WriteStringValue(t);
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.Flush();
                System.Buffers.BuffersExtensions.Write(buffer, "\n"u8);
                writer.Reset();
            }
        }
        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteInts(Utf8JsonWriter writer, string name, int[] values)
    {
        writer.WriteStartArray(name);
        foreach (int v in values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        }
        return true;
    }

    /// <summary>Validates the UTF-8 of a line, parses its JSON and reads "text" and "text_pair".</summary>
    internal static (string Text, string? Pair) ParseLine(ReadOnlySpan<byte> line, long lineNumber)
    {
        var status = Utf8.ToUtf16(line, new char[line.Length], out int bytesRead, out _, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new InvalidDataException($"stdin line {lineNumber}: invalid UTF-8 at byte {bytesRead + 1} of the line");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"stdin line {lineNumber}: not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"stdin line {lineNumber}: expected a JSON object with a \"text\" string, got {root.ValueKind.ToString().ToLowerInvariant()}");
            }
            if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"stdin line {lineNumber}: \"text\" must be a string" + (root.TryGetProperty("text", out var t) ? $", got {t.ValueKind.ToString().ToLowerInvariant()}" : ", and it is missing"));
            }
            string? pair = null;
            if (root.TryGetProperty("text_pair", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                if (p.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"stdin line {lineNumber}: \"text_pair\" must be a string, got {p.ValueKind.ToString().ToLowerInvariant()}");
                }
                pair = p.GetString();
            }
            return (text.GetString()!, pair);
        }
    }

    /// <summary>Times single-thread encoding (special tokens on, no truncation) of a dataset and prints the throughput.</summary>
    private static int Benchmark(PreTrainedTokenizer tokenizer, string file, EncodeOptions options, CliContext context)
    {
        var texts = ReadBenchmarkTexts(file);
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var encodeOptions = new EncodeOptions { AddSpecialTokens = options.AddSpecialTokens };
        long tokens = 0;
        foreach (string t in texts.Take(2000)) tokens += tokenizer.Call([t], null, encodeOptions).InputIds[0].Length; // warm-up
        tokens = 0;
        var times = new List<double>();
        var cpuTimes = new List<double>();
        var process = Process.GetCurrentProcess();
        for (int round = 0; round < 3; round++)
        {
            tokens = 0;
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            foreach (string t in texts) tokens += tokenizer.Call([t], null, encodeOptions).InputIds[0].Length;
            times.Add(watch.Elapsed.TotalSeconds);
            process.Refresh();
            cpuTimes.Add((process.TotalProcessorTime - cpuBefore).TotalSeconds);
        }
        double best = times.Min();
        double bestCpu = cpuTimes.Min();
        context.Out.WriteLine($"tokenizer: {tokenizer.TokenizerClass}{(tokenizer.IsFast ? " (tokenizer.json)" : " (vocabulary files)")}{(tokenizer.Pipeline.HasFusedPath ? ", fused path" : "")}");
        context.Out.WriteLine($"texts: {texts.Count:N0}, UTF-8 bytes: {bytes:N0}, tokens: {tokens:N0}");
        context.Out.WriteLine($"single thread, best of 3: {best:F3} s = {bytes / best / 1e6:F1} MB/s, {texts.Count / best:N0} texts/s, {tokens / best / 1e6:F2} M tokens/s");
        // On a busy machine the process's CPU time (GC included) is steadier than the wall clock.
        context.Out.WriteLine($"  by process CPU time, best of 3: {bestCpu:F3} s = {bytes / bestCpu / 1e6:F1} MB/s");
        if (tokenizer.Pipeline.HasFusedPath)
        {
            tokenizer.Pipeline.UseFastPath = false;
            var watch = Stopwatch.StartNew();
            foreach (string t in texts) tokenizer.Call([t], null, encodeOptions);
            double seconds = watch.Elapsed.TotalSeconds;
            tokenizer.Pipeline.UseFastPath = true;
            context.Out.WriteLine($"general (unfused) path, one run: {seconds:F3} s = {bytes / seconds / 1e6:F1} MB/s");
        }
        if (options.MaxDegreeOfParallelism > 1)
        {
            // Same work spread over threads (results dropped, as in the single-thread figure).
            var watch = Stopwatch.StartNew();
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, texts.Count, 256),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism },
                range =>
                {
                    for (int i = range.Item1; i < range.Item2; i++) tokenizer.Call([texts[i]], null, encodeOptions);
                });
            double seconds = watch.Elapsed.TotalSeconds;
            context.Out.WriteLine($"{options.MaxDegreeOfParallelism} threads: {seconds:F3} s = {bytes / seconds / 1e6:F1} MB/s");
        }
        return CliApp.Success;
    }

    private static List<string> ReadBenchmarkTexts(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"benchmark file not found: {file}", file);
        var texts = new List<string>();
        if (file.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
        {
            using var stream = File.OpenRead(file);
            using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                string name = entry.Name.Replace('\\', '/');
                if (!name.Contains("/test/pos/", StringComparison.Ordinal) && !name.Contains("/test/neg/", StringComparison.Ordinal)) continue;
                if (!name.EndsWith(".txt", StringComparison.Ordinal)) continue;
                using var reader = new StreamReader(entry.DataStream, new UTF8Encoding(false, true));
                texts.Add(reader.ReadToEnd());
            }
            if (texts.Count == 0) throw new InvalidDataException($"{file}: no aclImdb/test/pos or aclImdb/test/neg reviews found in the archive");
            return texts;
        }
        foreach (string line in File.ReadLines(file)) texts.Add(line);
        return texts;
    }

    /// <summary>Reads raw lines (split on '\n', a trailing '\r' dropped) with their 1-based numbers.</summary>
    private sealed class JsonLineReader(Stream stream)
    {
        private byte[] buffer = new byte[1 << 16];
        private int start;
        private int end;
        private long lineNumber;
        private bool eof;

        public bool TryReadLine(out ReadOnlySpan<byte> line, out long number)
        {
            while (true)
            {
                int newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                if (newline >= 0)
                {
                    line = Trim(buffer.AsSpan(start, newline - start));
                    start = newline + 1;
                    number = ++lineNumber;
                    return true;
                }
                if (eof)
                {
                    if (start < end)
                    {
                        line = Trim(buffer.AsSpan(start, end - start));
                        start = end;
                        number = ++lineNumber;
                        return true;
                    }
                    line = default;
                    number = lineNumber;
                    return false;
                }
                Fill();
            }
        }

        private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

        private void Fill()
        {
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            int read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0) eof = true;
            else end += read;
        }
    }
}
