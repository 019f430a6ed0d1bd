using System.Globalization;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Nn.Inference;
using Sharpformers.Pipelines;
using Sharpformers.Tokenizers;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// `bench accuracy`: what int8 quantization costs in accuracy. Classifies a labelled TSV (SST-2 dev by
/// default: `sentence&lt;TAB&gt;label`, header line) with the model in float32 and in int8 and reports both
/// accuracies, their difference in points (the limit: 0.5), how often the two agree, and the
/// largest logit difference. The predicted class is the argmax index, compared with the label column
/// (SST-2 fine-tuned checkpoints map 0 = negative, 1 = positive, as the dataset does).
/// </summary>
public sealed class AccuracyBenchWorkload : IBenchWorkload
{
    public string Name => "accuracy";

    public string Summary => "float32 vs int8 accuracy on a labelled TSV (SST-2 dev): points lost to quantization";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        .. BenchModel.Options,
        new("tsv", "FILE", "accuracy: labelled sentences, `sentence<TAB>label` with a header (default ../shared/datasets/sst2/dev.tsv)"),
        new("tokenizer", "DIR", "cold-start/tokenizer/real-data: folder with tokenizer files (default: the model's, or ../shared/vocab/bert-base-uncased)"),
        new("batch", "LIST", "throughput/latency/train-step: comma-separated batch sizes"),
    ];

    public IEnumerable<BenchRecord> Run(ParsedArguments args, BenchSettings settings)
    {
        var (sentences, labels) = ReadTsv(args.Get("tsv") ?? DefaultTsv());
        int batchSize = BenchArguments.IntList(args, "batch", [32], min: 1)[0];
        using var bench = BenchModel.FromArguments(args);
        var tokenizer = AutoTokenizer.FromPretrained(BenchModel.TokenizerFolder(args, args.Get("model")));
        KernelParallel.MaxThreads = settings.Threads.Max();
        using var classifier = PipelineFactory.Pipeline("text-classification", bench.Model, tokenizer);
        var options = new TextClassificationOptions { BatchSize = batchSize, Truncation = true };

        bench.Model.InferencePrecision = InferencePrecision.Float32;
        var f32 = classifier.Invoke(sentences, options);
        bench.Model.InferencePrecision = InferencePrecision.Int8;
        var i8 = classifier.Invoke(sentences, options);
        bench.Model.InferencePrecision = InferencePrecision.Float32;

        int correct32 = 0, correct8 = 0, agree = 0;
        double worstLogit = 0;
        for (int i = 0; i < sentences.Count; i++)
        {
            int p32 = ArgMax(f32[i].Logits);
            int p8 = ArgMax(i8[i].Logits);
            if (p32 == labels[i]) correct32++;
            if (p8 == labels[i]) correct8++;
            if (p32 == p8) agree++;
            for (int j = 0; j < f32[i].Logits.Count; j++) worstLogit = Math.Max(worstLogit, Math.Abs(f32[i].Logits[j] - i8[i].Logits[j]));
        }
        double accuracy32 = 100.0 * correct32 / sentences.Count;
        double accuracy8 = 100.0 * correct8 / sentences.Count;
        yield return new BenchRecord()
            .Add("workload", Name)
            .Add("model", bench.Description)
            .Add("examples", sentences.Count)
            .Add("fp32_accuracy", accuracy32)
            .Add("int8_accuracy", accuracy8)
            .Add("points_lost", accuracy32 - accuracy8)
            .Add("within_limit", accuracy32 - accuracy8 <= 0.5)
            .Add("agreement", (double)agree / sentences.Count)
            .Add("max_logit_diff", worstLogit);
    }

    private static int ArgMax(IReadOnlyList<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Count; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static (List<string> Sentences, List<int> Labels) ReadTsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--tsv '{path}' does not exist", path);
        var sentences = new List<string>();
        var labels = new List<int>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || line.Length == 0) continue; // header
            int tab = line.LastIndexOf('\t');
            if (tab < 0 || !int.TryParse(line.AsSpan(tab + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int label) || label < 0)
            {
                throw new InvalidDataException($"{path} line {lineNumber}: expected `sentence<TAB>label` with a non-negative integer label");
            }
            sentences.Add(line[..tab]);
            labels.Add(label);
        }
        if (sentences.Count == 0) throw new InvalidDataException($"{path}: no labelled sentences after the header");
        return (sentences, labels);
    }

    private static string DefaultTsv()
    {
        foreach (string candidate in new[] { "../shared/datasets/sst2/dev.tsv", "../../shared/datasets/sst2/dev.tsv", "/work/shared/datasets/sst2/dev.tsv" })
        {
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new CliUsageException("no labelled data: pass --tsv FILE (e.g. ../shared/datasets/sst2/dev.tsv)");
    }
}
