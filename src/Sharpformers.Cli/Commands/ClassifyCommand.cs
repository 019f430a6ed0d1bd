using System.Globalization;
using System.Text;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Nn.Inference;
using Sharpformers.Pipelines;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers classify`: the text-classification pipeline from the command line. Texts come from
/// arguments or --input (plain lines, or JSONL with "text" and optional "text_pair"); results are a
/// table, or one JSON line per input with the best label, its score and the logits.
/// </summary>
public sealed class ClassifyCommand : ICliCommand
{
    private const int TableTextWidth = 60;

    public string Name => "classify";

    public string Summary => "Classify texts with a sequence-classification model (sentiment analysis).";

    public string Usage => "[--model DIR|REPO_ID] [TEXT ...] [--input FILE] [--format table|jsonl] [--top-k N|all] [--quantize none|int8] [--revision R] [--local-files-only]";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "DIR|REPO_ID", "model folder (config.json, weights, tokenizer files) or Hub repo id (org/name), fetched through the Hugging Face cache (default: the bundled English sentiment model)"),
        new("input", "FILE", "read inputs from FILE ('-' for standard input): one text per line, or JSONL {\"text\": ..., \"text_pair\": ...}"),
        new("format", "FORMAT", "table (default) or jsonl: one {\"label\", \"score\", \"logits\"} object per input"),
        new("top-k", "N|all", "labels to show per input, best first (default 1)"),
        new("batch-size", "N", "inputs per forward pass (default 8)"),
        new("max-length", "N", "truncate inputs to N tokens (default: the tokenizer's model_max_length)"),
        new("function-to-apply", "NAME", "softmax, sigmoid or none (default: softmax, or sigmoid for multi-label and single-label models)"),
        QuantizeOption,
        .. HubCliOptions.Options,
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        string model = args.Get("model") ?? ModelWhenNoneGiven();
        string format = args.GetChoice("format", "table", "jsonl") ?? "table";
        int? topK = ParseTopK(args.Get("top-k"));
        int batchSize = args.GetInt("batch-size", min: 1) ?? 8;
        int? maxLength = args.GetInt("max-length", min: 1);
        ClassificationFunction? function = args.GetChoice("function-to-apply", "softmax", "sigmoid", "none") switch
        {
            null => null,
            "softmax" => ClassificationFunction.Softmax,
            "sigmoid" => ClassificationFunction.Sigmoid,
            _ => ClassificationFunction.None,
        };
        var inputs = args.Positionals.Select(t => new TextInput(t)).ToList();
        if (args.Get("input") is string file) inputs.AddRange(ReadInputs(file, context));
        if (inputs.Count == 0) throw new CliUsageException("no text to classify: pass TEXT arguments or --input FILE");

        var options = new TextClassificationOptions
        {
            TopK = topK ?? 1,
            FunctionToApply = function,
            Truncation = true,
            MaxLength = maxLength,
            BatchSize = batchSize,
        };
        if (topK == AllLabels) options = options with { TopK = null };
        using var classifier = PipelineFactory.Pipeline("text-classification", model: model,
            modelOptions: new Models.FromPretrainedOptions(HubCliOptions.Read(args, context)) { Log = message => context.Error.WriteLine($"warning: {message}") });
        classifier.Model.InferencePrecision = Precision(args);
        var results = classifier.Invoke(inputs, options);
        if (format == "jsonl") WriteJsonLines(results, withRanking: topK is not null, context.Out);
        else WriteTable(results, context.Out);
        return CliApp.Success;
    }

    /// <summary>The model used when --model is not given: the bundled default sentiment model.</summary>
    public static string ModelWhenNoneGiven()
    {
        try
        {
            return DefaultModels.For("sentiment-analysis");
        }
        catch (DirectoryNotFoundException e)
        {
            throw new CliUsageException($"no --model given and {e.Message}");
        }
    }

    /// <summary>--quantize none|int8, shared by classify and serve.</summary>
    internal static readonly CliOption QuantizeOption =
        new("quantize", "MODE", "none (float32, default) or int8: dynamic int8 quantization of the linear layers (faster; see BENCHMARKS.md)");

    internal static InferencePrecision Precision(ParsedArguments args) =>
        args.GetChoice("quantize", "none", "int8") == "int8" ? InferencePrecision.Int8 : InferencePrecision.Float32;

    private const int AllLabels = -1;

    private static int? ParseTopK(string? raw)
    {
        if (raw is null) return null;
        if (raw.Equals("all", StringComparison.OrdinalIgnoreCase)) return AllLabels;
        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) && k >= 1) return k;
        throw new CliUsageException($"option '--top-k' expects a positive integer or 'all', got '{raw}'");
    }

    private static List<TextInput> ReadInputs(string path, CliContext context)
    {
        string text;
        string name = path;
        if (path == "-")
        {
            text = context.In.ReadToEnd();
            name = "standard input";
        }
        else
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"Input file '{Path.GetFullPath(path)}' was not found.", path);
            try
            {
                text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"{path} is not valid UTF-8 ({e.Message})", e);
            }
        }
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        bool jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || LooksLikeJsonLines(lines);
        var inputs = new List<TextInput>();
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i];
            if (line.Trim().Length == 0) continue; // blank lines separate nothing; they are not inputs
            inputs.Add(jsonl ? ParseJsonLine(line, name, i + 1) : new TextInput(line));
        }
        return inputs;
    }

    private static bool LooksLikeJsonLines(List<string> lines)
    {
        string? first = lines.FirstOrDefault(l => l.Trim().Length > 0);
        if (first is null || !first.TrimStart().StartsWith('{')) return false;
        try
        {
            using var doc = JsonDocument.Parse(first);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("text", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static TextInput ParseJsonLine(string line, string source, int lineNumber)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{source} line {lineNumber}: expected a JSON object with a \"text\" string.");
            }
            string? pair = null;
            if (root.TryGetProperty("text_pair", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                pair = p.ValueKind == JsonValueKind.String
                    ? p.GetString()
                    : throw new InvalidDataException($"{source} line {lineNumber}: \"text_pair\" must be a string.");
            }
            return new TextInput(text.GetString()!, pair);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} line {lineNumber}: not valid JSON ({e.Message}).", e);
        }
    }

    private static void WriteJsonLines(IReadOnlyList<ClassificationResult> results, bool withRanking, TextWriter output)
    {
        foreach (var result in results)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("label", result.Label);
                json.WriteNumber("score", result.Score);
                json.WriteStartArray("logits");
                foreach (float v in result.Logits) json.WriteNumberValue(v);
                json.WriteEndArray();
                if (withRanking)
                {
                    json.WriteStartArray("top_k");
                    foreach (var s in result)
                    {
                        json.WriteStartObject();
                        json.WriteString("label", s.Label);
                        json.WriteNumber("score", s.Score);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
    }

    private static void WriteTable(IReadOnlyList<ClassificationResult> results, TextWriter output)
    {
        int labelWidth = Math.Max("LABEL".Length, results.SelectMany(r => r).Max(s => s.Label.Length));
        output.WriteLine($"{"LABEL".PadRight(labelWidth)}  {"SCORE",-6}  TEXT");
        foreach (var result in results)
        {
            for (int k = 0; k < result.Count; k++)
            {
                string text = k == 0 ? Shorten(result.Input) : "";
                output.WriteLine($"{result[k].Label.PadRight(labelWidth)}  {result[k].Score.ToString("F4", CultureInfo.InvariantCulture),-6}  {text}".TrimEnd());
            }
        }
    }

    private static string Shorten(TextInput input)
    {
        string text = input.TextPair is null ? input.Text : $"{input.Text} | {input.TextPair}";
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
        text = sb.ToString();
        var info = new StringInfo(text);
        return info.LengthInTextElements <= TableTextWidth ? text : info.SubstringByTextElements(0, TableTextWidth - 1) + "…";
    }
}
