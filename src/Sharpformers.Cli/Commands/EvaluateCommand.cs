using System.Globalization;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Tokenizers;
using Sharpformers.Training;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers evaluate`: a classification model's loss and metrics on labelled data, as HF's
/// trainer.evaluate() reports them (eval_loss, eval_accuracy, eval_f1, eval_precision,
/// eval_recall — binary for 2 labels, macro averages otherwise — eval_runtime,
/// eval_samples_per_second, eval_steps_per_second): a table, or one JSON object with --format json.
/// </summary>
public sealed class EvaluateCommand : ICliCommand
{
    public string Name => "evaluate";

    public string Summary => "Evaluate a classification model on labelled data (loss, accuracy, F1, precision, recall).";

    public string Usage => "[--model DIR] --data FILE|DIR [--split NAME] [--format table|json]";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("model", "DIR", "model folder (config.json, weights, tokenizer files; default: the bundled English sentiment model)"),
        new("data", "FILE|DIR", "labelled data: a .tsv/.csv/.jsonl file, a folder of split files, an aclImdb folder or aclImdb_v1.tar.gz"),
        new("split", "NAME", "split for sources with splits (default: validation/dev, else test)"),
        new("format", "FORMAT", "table (default) or json: one object with HF's eval_* keys"),
        new("text-column", "NAME", "text column (default: text, sentence, text_a, sentence1, review, content or question)"),
        new("text-pair-column", "NAME", "second text of sentence pairs"),
        new("label-column", "NAME", "label column (default label or labels)"),
        new("labels", "A,B,...", "class names of the data in id order (labels in the data may be names or ids)"),
        new("batch-size", "N", "examples per forward pass (default 16)"),
        new("max-length", "N", "truncate inputs to N tokens (default: the model's maximum)"),
        new("threads", "N", "threads for the kernels (default: all cores)"),
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        if (args.Positionals.Count > 0) throw new CliUsageException($"unexpected argument '{args.Positionals[0]}'");
        string modelPath = args.Get("model") ?? ClassifyCommand.ModelWhenNoneGiven();
        string dataPath = args.Require("data");
        string format = args.GetChoice("format", "table", "json") ?? "table";
        int batchSize = args.GetInt("batch-size", min: 1) ?? 16;
        if (args.GetInt("threads", min: 1) is int threads) KernelParallel.MaxThreads = threads;
        var labelNames = TrainCommand.ParseLabels(args.Get("labels"));
        string split = args.Get("split") ?? DefaultSplit(dataPath);
        var data = DataSource.Load(dataPath, split, args.Get("text-column"), args.Get("text-pair-column"), args.Get("label-column"), labelNames);
        if (!data.ColumnNames.Contains(DataSource.LabelColumn))
        {
            throw new InvalidDataException($"{dataPath}: the data has no label column (columns [{string.Join(", ", data.ColumnNames)}]); evaluation needs labels (name the column with --label-column).");
        }
        if (data.NumRows == 0) throw new InvalidDataException($"{dataPath}: no examples to evaluate.");

        var tokenizer = AutoTokenizer.FromPretrained(modelPath);
        using var model = AutoModelForSequenceClassification.FromPretrained(modelPath,
            new FromPretrainedOptions { Log = message => context.Error.WriteLine($"warning: {message}") });
        if (data.Features[DataSource.LabelColumn] is ClassLabel classes && classes.NumClasses > model.NumLabels)
        {
            throw new InvalidDataException(
                $"{dataPath} has {classes.NumClasses} classes ({string.Join(", ", classes.Names)}) but the model predicts {model.NumLabels} ({string.Join(", ", model.Config.Id2Label.OrderBy(l => l.Key).Select(l => l.Value))}).");
        }
        int maxLength = TrainCommand.EffectiveMaxLength(args.GetInt("max-length", min: 1), tokenizer, model);
        var tokenized = TrainCommand.Tokenize(data, tokenizer, maxLength);
        var trainingArgs = new TrainingArguments
        {
            OutputDir = Path.Combine(Path.GetTempPath(), "sharpformers-evaluate"),  // nothing is written
            PerDeviceEvalBatchSize = batchSize,
            DisableTqdm = format == "json" && Console.IsErrorRedirected,
        };
        var trainer = new Trainer(model, trainingArgs, evalDataset: tokenized, computeMetrics: ClassificationMetrics.All(), tokenizer: tokenizer);
        trainer.PopCallback<ProgressCallback>();
        trainer.PopCallback<PrinterCallback>();
        if (!trainingArgs.DisableTqdm)
        {
            // Only the bar: the metrics are this command's output, not log lines.
            bool terminal = ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected;
            if (terminal) trainer.AddCallback(new EvaluationProgress(context.Error));
        }
        var metrics = trainer.Evaluate().ToDictionary(p => p.Key, p => (object)p.Value);
        metrics["eval_samples"] = data.NumRows;
        if (format == "json")
        {
            context.Out.WriteLine(ToJson(metrics));
        }
        else
        {
            context.Out.WriteLine($"{model.ClassName} on {data.NumRows:N0} examples of {dataPath}{(DataSource.AvailableSplits(dataPath).Count > 0 ? $" ({split})" : "")}:");
            TrainCommand.PrintMetrics("eval", metrics, context.Out);
        }
        return CliApp.Success;
    }

    private static string DefaultSplit(string path)
    {
        var splits = DataSource.AvailableSplits(path);
        foreach (string candidate in new[] { "validation", "dev", "valid", "val", "test" })
        {
            if (splits.Contains(candidate)) return candidate;
        }
        return splits.Count > 0 ? splits[0] : "test";
    }

    private static string ToJson(IReadOnlyDictionary<string, object> metrics)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (key, value) in metrics)
            {
                switch (value)
                {
                    case int whole: json.WriteNumber(key, whole); break;
                    case double number when double.IsFinite(number): json.WriteNumber(key, number); break;
                    default: json.WriteNull(key); break;
                }
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A progress bar over the evaluation batches (no log lines).</summary>
    private sealed class EvaluationProgress(TextWriter writer) : TrainerCallback
    {
        private Utils.ProgressBar? bar;

        public override void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
        {
            bar ??= new Utils.ProgressBar("Evaluating", context.EvalDataLoader?.Count ?? 0, "it", writer, interactive: true);
            bar.Advance();
        }

        public override void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerCallbackContext context)
        {
            bar?.Dispose();
            bar = null;
        }
    }
}
