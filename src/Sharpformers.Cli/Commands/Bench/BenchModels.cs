using Sharpformers.Cli.Infrastructure;
using Sharpformers.Models;
using Sharpformers.Models.Bert;
using Sharpformers.Models.Configuration;
using Sharpformers.Models.DistilBert;
using Sharpformers.Nn.Inference;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>
/// The model a model workload runs: a folder (<c>--model DIR</c>) or a randomly initialised model of a
/// named shape (<c>--shape distilbert-base|bert-base</c>, seeded, HF-style init), plus the analytic FLOP
/// count the PyTorch reference uses (../shared/reference/pure_torch_distilbert.py), so GFLOP/s figures
/// are comparable line for line.
/// </summary>
public sealed class BenchModel : IDisposable
{
    public static IReadOnlyList<string> Shapes { get; } = ["distilbert-base", "bert-base"];

    public static IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "DIR", "model workloads: a model folder to load (default: a random --shape model)"),
        new("shape", "NAME", "model workloads: random model of this shape: distilbert-base (default) or bert-base"),
        new("seed", "N", "model workloads: seed of the random weights and inputs (default: 0)"),
    ];

    private BenchModel(SequenceClassificationModel model, string description)
    {
        Model = model;
        Description = description;
        var config = model.Config;
        Layers = config.NumHiddenLayers;
        Hidden = config.HiddenSize;
        Intermediate = config switch
        {
            DistilBertConfig d => d.HiddenDim,
            BertConfig b => b.IntermediateSize,
            _ => 4 * config.HiddenSize,
        };
        VocabSize = config switch
        {
            DistilBertConfig d => d.VocabSize,
            BertConfig b => b.VocabSize,
            _ => 30522,
        };
        NumLabels = config.NumLabels;
    }

    public SequenceClassificationModel Model { get; }

    /// <summary>"distilbert-base (random)" or the folder path, for the JSON "model" field.</summary>
    public string Description { get; }

    public int Layers { get; }

    public int Hidden { get; }

    public int Intermediate { get; }

    public int VocabSize { get; }

    public int NumLabels { get; }

    /// <summary>
    /// Matmul FLOPs of one forward pass (2·m·n·k each), the reference's formula: per layer and sequence
    /// 2·S·(4·d² + 2·d·ff) + 4·S²·d, plus the head 2·(d² + d·labels) per sequence.
    /// </summary>
    public double ForwardFlops(int batch, int seq) => ForwardFlops(batch, seq, Layers, Hidden, Intermediate, NumLabels);

    public static double ForwardFlops(int batch, int seq, int layers, int hidden, int intermediate, int labels)
    {
        double d = hidden, s = seq;
        double perLayer = 2 * s * (4 * d * d + 2 * d * intermediate) + 4 * s * s * d;
        double head = 2 * (d * d + d * labels);
        return batch * (layers * perLayer + head);
    }

    /// <summary>The model named by --model or --shape.</summary>
    public static BenchModel FromArguments(ParsedArguments args)
    {
        string? folder = args.Get("model");
        string? shape = args.GetChoice("shape", [.. Shapes]);
        if (folder is not null && shape is not null)
        {
            throw new CliUsageException("give either '--model DIR' or '--shape NAME', not both");
        }
        int seed = args.GetInt("seed", min: 0) ?? 0;
        if (folder is not null)
        {
            var loaded = AutoModelForSequenceClassification.FromPretrained(folder, new FromPretrainedOptions { Log = _ => { } });
            return new BenchModel(loaded, Path.GetFullPath(folder));
        }
        shape ??= Shapes[0];
        return new BenchModel(AutoModelForSequenceClassification.FromConfig(RandomConfig(shape), seed), $"{shape} (random)");
    }

    /// <summary>
    /// Saves the random model of --shape (seeded) as a model folder in a new temporary directory, with
    /// the tokenizer files of --tokenizer (default ../shared/vocab/bert-base-uncased), so a child process
    /// or a pipeline loads it like any checkpoint. The caller deletes the folder.
    /// </summary>
    public static (string Folder, string Description) SaveRandomFolder(ParsedArguments args)
    {
        string shape = args.GetChoice("shape", [.. Shapes]) ?? Shapes[0];
        int seed = args.GetInt("seed", min: 0) ?? 0;
        string tokenizer = TokenizerFolder(args, modelFolder: null);
        string folder = Path.Combine(Path.GetTempPath(), $"sharpformers-bench-{shape}-{Guid.NewGuid():N}");
        try
        {
            using (var model = AutoModelForSequenceClassification.FromConfig(RandomConfig(shape), seed)) model.SavePretrained(folder);
            foreach (string file in Directory.EnumerateFiles(tokenizer))
            {
                string name = Path.GetFileName(file);
                if (name is "config.json" || name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".bin", StringComparison.Ordinal)) continue;
                File.Copy(file, Path.Combine(folder, name));
            }
        }
        catch
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            throw;
        }
        return (folder, $"{shape} (random, saved)");
    }

    /// <summary>
    /// The tokenizer folder: --tokenizer, else the model folder when it has tokenizer files, else
    /// ../shared/vocab/bert-base-uncased (the project's shared data) when it exists.
    /// </summary>
    public static string TokenizerFolder(ParsedArguments args, string? modelFolder)
    {
        if (args.Get("tokenizer") is { } given)
        {
            if (!Directory.Exists(given)) throw new CliUsageException($"--tokenizer '{given}' is not a folder");
            return given;
        }
        if (modelFolder is not null && (File.Exists(Path.Combine(modelFolder, "tokenizer.json")) || File.Exists(Path.Combine(modelFolder, "vocab.txt"))))
        {
            return modelFolder;
        }
        foreach (string candidate in new[] { "../shared/vocab/bert-base-uncased", "../../shared/vocab/bert-base-uncased", "/work/shared/vocab/bert-base-uncased" })
        {
            if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new CliUsageException("no tokenizer files: pass --tokenizer DIR (e.g. ../shared/vocab/bert-base-uncased)");
    }

    /// <summary>--quantize none|int8.</summary>
    public static InferencePrecision Precision(ParsedArguments args) => ClassifyCommand.Precision(args);

    public static string PrecisionName(InferencePrecision precision) => precision == InferencePrecision.Int8 ? "int8" : "fp32";

    /// <summary>The config of a named shape (the base checkpoints' sizes, 2 labels).</summary>
    public static PretrainedConfig RandomConfig(string shape) => shape switch
    {
        "distilbert-base" => new DistilBertConfig(),
        "bert-base" => new BertConfig(),
        _ => throw new CliUsageException($"unknown shape '{shape}'; shapes: {string.Join(", ", Shapes)}"),
    };

    /// <summary>(B, T) random ids in [1000, vocab) and an all-ones mask, as the reference's make_inputs.</summary>
    public ModelInputs RandomInputs(int batch, int seq, int seed)
    {
        var random = new Random(seed + 1234);
        var ids = new int[batch * seq];
        int low = Math.Min(1000, VocabSize - 1);
        for (int i = 0; i < ids.Length; i++) ids[i] = random.Next(low, VocabSize);
        var mask = new int[batch * seq];
        mask.AsSpan().Fill(1);
        return new ModelInputs(new Tensors.IntTensor(ids, batch, seq), new Tensors.IntTensor(mask, batch, seq));
    }

    public void Dispose() => Model.Dispose();
}
