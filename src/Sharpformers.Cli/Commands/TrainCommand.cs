using System.Globalization;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Tensors;
using Sharpformers.Tokenizers;
using Sharpformers.Training;
using Sharpformers.Training.Data;
using Sharpformers.Training.Evaluation;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers train`: fine-tunes a sequence-classification model on a labelled text file, folder
/// or aclImdb tarball, the way transformers' run_glue.py does it — TrainingArguments as flags,
/// labels from the data (or --labels / --num-labels, re-initialising the head when the count
/// differs), truncation to the model's length, dynamic padding, the Trainer with checkpoints and
/// resume — and ends with the final (or best) model, its tokenizer files, trainer_state.json and
/// all_results.json in --output-dir.
/// </summary>
public sealed class TrainCommand : ICliCommand
{
    /// <summary>TrainingArguments the command owns itself (output_dir is --output-dir; do_* make no sense here).</summary>
    private static readonly HashSet<string> NotFlags = ["output_dir", "do_train", "do_eval", "do_predict"];

    private static readonly Dictionary<string, string> ArgumentHelp = new(StringComparer.Ordinal)
    {
        ["learning_rate"] = "peak learning rate of AdamW (default 5e-5)",
        ["per_device_train_batch_size"] = "examples per training batch (default 8)",
        ["per_device_eval_batch_size"] = "examples per evaluation batch (default 8)",
        ["num_train_epochs"] = "epochs to train (default 3)",
        ["max_steps"] = "optimizer steps to train; overrides --num-train-epochs (default -1: off)",
        ["weight_decay"] = "AdamW weight decay, not applied to biases and LayerNorm weights (default 0)",
        ["warmup_steps"] = "linear warmup steps (default 0)",
        ["warmup_ratio"] = "warmup as a fraction of the training steps (default 0)",
        ["max_grad_norm"] = "clip the global gradient norm to this (default 1.0; 0 disables)",
        ["lr_scheduler_type"] = "linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup, inverse_sqrt, cosine_with_min_lr",
        ["eval_strategy"] = "no, steps or epoch (default no)",
        ["eval_steps"] = "evaluate every N steps with --eval-strategy steps (default: --logging-steps)",
        ["save_strategy"] = "no, steps or epoch (default steps)",
        ["save_steps"] = "save a checkpoint every N steps (default 500)",
        ["save_total_limit"] = "keep at most N checkpoints (the best is never deleted)",
        ["logging_strategy"] = "no, steps or epoch (default steps)",
        ["logging_steps"] = "log the loss every N steps (default 500)",
        ["load_best_model_at_end"] = "end with the best checkpoint's weights (needs matching eval and save strategies)",
        ["metric_for_best_model"] = "the metric that picks the best checkpoint (default loss)",
        ["greater_is_better"] = "whether a larger metric is better (default: false for losses)",
        ["seed"] = "seed for shuffling, dropout and new weights (default 42)",
        ["gradient_accumulation_steps"] = "micro-batches per optimizer step (default 1)",
        ["group_by_length"] = "batch examples of similar length together",
        ["resume_from_checkpoint"] = "continue from a checkpoint folder, or the latest in --output-dir when no PATH is given",
        ["overwrite_output_dir"] = "train from scratch even if --output-dir holds checkpoints",
        ["disable_tqdm"] = "no progress bar: log lines only",
        ["run_name"] = "a name for the run (default: --output-dir)",
    };

    public string Name => "train";

    public string Summary => "Fine-tune a sequence-classification model (run_glue) or pretrain with masked-LM (run_mlm).";

    public string Usage =>
        "(--model DIR | --config-name FILE --tokenizer-name DIR) --train FILE|DIR [--train ...] [--validation FILE|DIR | --validation-split-percentage P] " +
        "--output-dir DIR [--task text-classification|masked-lm] [TRAINING ARGUMENTS]";

    public IReadOnlyList<CliOption> Options { get; } = BuildOptions();

    private static List<CliOption> BuildOptions()
    {
        var options = new List<CliOption>
        {
            new("task", "NAME", "text-classification (default; run_glue) or masked-lm (run_mlm)"),
            new("model", "DIR", "model folder to fine-tune or continue pretraining (config.json, weights, tokenizer files)"),
            new("config-name", "FILE|DIR", "train from scratch: a config.json (or its folder) for a seeded random initialisation (HF from_config)"),
            new("tokenizer-name", "DIR", "tokenizer files to use (required with --config-name; default: --model's)"),
            new("train", "FILE|DIR", "training data: a .tsv/.csv/.jsonl file, a folder of split files, an aclImdb folder or aclImdb_v1.tar.gz; repeat to concatenate sources", Repeatable: true),
            new("validation", "FILE|DIR", "evaluation data (same kinds); evaluated at the end and by --eval-strategy"),
            new("validation-split-percentage", "P", "hold out a seeded P% of the training data for evaluation (instead of --validation)"),
            new("save-dtype", "DTYPE", "precision of the final saved model: float32 (default), float16 or bfloat16"),
            new("block-size", "N", "masked-lm: pack the tokenized texts into blocks of N tokens (default: the model's maximum, at most 1024)"),
            new("line-by-line", null, "masked-lm: one example per text, truncated to --max-length, instead of packed blocks"),
            new("mlm-probability", "P", "masked-lm: fraction of tokens to mask (default 0.15)"),
            new("output-dir", "DIR", "where checkpoints, the final model, trainer_state.json and all_results.json go"),
            new("split", "NAME", "split of --train for sources with splits (default train)"),
            new("validation-split", "NAME", "split of --validation (default validation/dev, or test for aclImdb)"),
            new("text-column", "NAME", "text column (default: text, sentence, text_a, sentence1, review, content or question)"),
            new("text-pair-column", "NAME", "second text of sentence pairs (default text_b / sentence2 with text_a / sentence1)"),
            new("label-column", "NAME", "label column (default label or labels)"),
            new("labels", "A,B,...", "class names in id order; sets id2label/label2id (labels in the data may be names or ids)"),
            new("num-labels", "N", "number of classes (names LABEL_0…); the head is re-initialised when it has another size"),
            new("config-overrides", "K=V,...", "config.json overrides, e.g. \"dropout=0,attention_dropout=0\""),
            new("max-length", "N", "truncate inputs to N tokens (default: the model's maximum)"),
            new("no-shuffle", null, "train in file order (reproducible comparisons)"),
            new("early-stopping-patience", "N", "stop after N evaluations without improvement (needs --load-best-model-at-end)"),
            new("early-stopping-threshold", "X", "minimum improvement that counts (default 0)"),
            new("threads", "N", "threads for the kernels (default: all cores)"),
        };
        foreach (string name in TrainingArguments.Names)
        {
            if (NotFlags.Contains(name)) continue;
            string flag = name.Replace('_', '-');
            object? defaultValue = new TrainingArguments { OutputDir = "." }.Get(name);
            string help = ArgumentHelp.GetValueOrDefault(name,
                $"TrainingArguments.{name}" + (defaultValue is null or System.Collections.IDictionary ? "" : $" (default {Convert.ToString(defaultValue, CultureInfo.InvariantCulture)?.ToLowerInvariant()})"));
            if (defaultValue is bool || name == "resume_from_checkpoint" || name == "greater_is_better")
            {
                // HF's boolean arguments: the flag alone means true; "--flag false" turns a default-true one off.
                options.Add(new CliOption(flag, name == "resume_from_checkpoint" ? "PATH|latest" : "BOOL", help, ValueOptional: true));
            }
            else
            {
                options.Add(new CliOption(flag, "VALUE", help));
            }
        }
        return options;
    }

    public int Run(ParsedArguments args, CliContext context)
    {
        if (args.Positionals.Count > 0) throw new CliUsageException($"unexpected argument '{args.Positionals[0]}'");
        string task = args.GetChoice("task", TextClassificationTask, MaskedLMTraining.Task) ?? TextClassificationTask;
        var source = ModelSource.From(args);
        var trainPaths = args.GetAll("train");
        if (trainPaths.Count == 0) throw new CliUsageException("missing required option '--train'");
        string outputDir = args.Require("output-dir");
        if (args.GetInt("threads", min: 1) is int threads) KernelParallel.MaxThreads = threads;
        var trainingArgs = ParseTrainingArguments(args, outputDir);
        var saveDtype = SaveDtype(args);
        int? validationPercent = ValidationPercent(args);
        if (task == MaskedLMTraining.Task)
        {
            foreach (string classificationOnly in new[] { "labels", "num-labels", "label-column", "text-pair-column", "early-stopping-patience" })
            {
                if (args.Has(classificationOnly)) throw new CliUsageException($"--{classificationOnly} is for --task {TextClassificationTask}");
            }
            trainingArgs = ResolveOutputDir(trainingArgs, context);
            return MaskedLMTraining.Run(args, context, source, trainPaths, trainingArgs, validationPercent, saveDtype);
        }
        foreach (string mlmOnly in new[] { "block-size", "line-by-line", "mlm-probability" })
        {
            if (args.Has(mlmOnly)) throw new CliUsageException($"--{mlmOnly} is for --task {MaskedLMTraining.Task}");
        }
        var labelNames = ParseLabels(args.Get("labels"));
        int? numLabels = args.GetInt("num-labels", min: 1);
        if (labelNames is not null && numLabels is int n && n != labelNames.Count)
        {
            throw new CliUsageException($"--num-labels {n} but --labels names {labelNames.Count} classes");
        }
        var overrides = ParseOverrides(args.Get("config-overrides"));
        int? patience = args.GetInt("early-stopping-patience", min: 1);
        double threshold = args.GetDouble("early-stopping-threshold") ?? 0;
        trainingArgs = ResolveOutputDir(trainingArgs, context);

        // Data first: a bad file should fail before a model is loaded.
        string? textColumn = args.Get("text-column"), pairColumn = args.Get("text-pair-column"), labelColumn = args.Get("label-column");
        var train = LoadTrainingData(trainPaths, args.Get("split") ?? "train", textColumn, pairColumn, labelColumn, labelNames);
        if (!train.ColumnNames.Contains(DataSource.LabelColumn))
        {
            throw new InvalidDataException($"{string.Join(", ", trainPaths)}: the training data has no label column (columns [{string.Join(", ", train.ColumnNames)}]); name it with --label-column.");
        }
        var labels = TrainingLabels.Decide(train, labelNames, numLabels);
        Dataset? validation = null;
        if (args.Get("validation") is string validationPath)
        {
            string split = args.Get("validation-split") ?? DefaultValidationSplit(validationPath);
            validation = DataSource.Load(validationPath, split, textColumn, pairColumn, labelColumn, labelNames);
        }
        else if (validationPercent is int percent)
        {
            (train, validation) = HoldOut(train, percent, trainingArgs.Seed);
        }

        var tokenizer = AutoTokenizer.FromPretrained(source.TokenizerPath);
        var config = Models.Configuration.AutoConfig.FromPretrained(source.ConfigPath, overrides);
        var options = labels.ModelOptions(config, overrides, trainingArgs.Seed, message => context.Error.WriteLine($"warning: {message}"));
        using var model = source.ModelPath is string modelPath
            ? AutoModelForSequenceClassification.FromPretrained(modelPath, options)
            : AutoModelForSequenceClassification.FromConfig(Models.Configuration.AutoConfig.FromPretrained(source.ConfigPath, options), trainingArgs.Seed);
        if (!model.SupportsTraining)
        {
            throw new NotSupportedException($"{model.ClassName} cannot be fine-tuned yet: backward passes exist for BERT and DistilBERT.");
        }
        int maxLength = EffectiveMaxLength(args.GetInt("max-length", min: 1), tokenizer, model);
        var tokenizedTrain = Tokenize(train, tokenizer, maxLength);
        var tokenizedValidation = validation is null ? null : SortedByLength(Tokenize(validation, tokenizer, maxLength));

        var callbacks = new List<TrainerCallback>();
        if (patience is int p) callbacks.Add(new EarlyStoppingCallback(p, threshold));
        var trainer = new Trainer(model, trainingArgs, tokenizedTrain, tokenizedValidation,
            computeMetrics: ClassificationMetrics.All(), callbacks: callbacks, tokenizer: tokenizer)
        {
            ShuffleTrainData = !args.Flag("no-shuffle"),
        };
        RouteProgressTo(trainer, context);

        context.Error.WriteLine($"Training {model.ClassName} ({model.TrainableParameters.Sum(x => (long)x.Value.Length):N0} parameters{(source.ModelPath is null ? ", from scratch" : "")}) on {train.NumRows:N0} examples" +
            (validation is null ? "" : $", evaluating on {validation.NumRows:N0}") + $"; {model.NumLabels} labels: {string.Join(", ", model.Config.Id2Label.OrderBy(l => l.Key).Select(l => l.Value))}; inputs truncated to {maxLength} tokens.");
        var result = trainer.Train();

        return FinishRun(trainer, result, model, saveDtype, train.NumRows, tokenizedValidation is null ? null : validation!.NumRows, context);
    }

    /// <summary>
    /// The end of a run, as run_glue / run_mlm end: the final (or best) model saved (again in
    /// <paramref name="saveDtype"/> when it is not float32), train metrics (+ epoch, as HF's log() adds it, and
    /// train_samples), then the final evaluation when there is validation data, each printed and saved with
    /// the trainer state. <paramref name="addEvalMetrics"/> adds task-specific keys (run_mlm's perplexity).
    /// </summary>
    internal static int FinishRun(Trainer trainer, TrainOutput result, PreTrainedModel model, DType saveDtype, int trainSamples, int? evalSamples,
        CliContext context, Action<Dictionary<string, object>>? addEvalMetrics = null)
    {
        var trainingArgs = trainer.Args;
        trainer.SaveModel();
        if (saveDtype != DType.F32) model.SavePretrained(trainingArgs.OutputDir, saveDtype);
        var trainMetrics = result.Metrics.ToDictionary(p => p.Key, p => (object)p.Value);
        trainMetrics["epoch"] = PythonJson.Round(trainer.State.Epoch ?? 0, 2);
        trainMetrics["train_samples"] = trainSamples;
        PrintMetrics("train", trainMetrics, context.Out);
        trainer.SaveMetrics("train", trainMetrics);
        trainer.SaveState();
        if (evalSamples is int examples)
        {
            var evalMetrics = trainer.Evaluate().ToDictionary(p => p.Key, p => (object)p.Value);
            evalMetrics["epoch"] = PythonJson.Round(trainer.State.Epoch ?? 0, 2);
            evalMetrics["eval_samples"] = examples;
            addEvalMetrics?.Invoke(evalMetrics);
            PrintMetrics("eval", evalMetrics, context.Out);
            trainer.SaveMetrics("eval", evalMetrics);
            trainer.SaveState();
        }
        context.Out.WriteLine($"Saved the {(trainingArgs.LoadBestModelAtEnd && trainer.State.BestModelCheckpoint is not null ? "best" : "final")} model, its tokenizer, trainer_state.json and all_results.json to {Path.GetFullPath(trainingArgs.OutputDir)}");
        return CliApp.Success;
    }

    internal const string TextClassificationTask = "text-classification";

    /// <summary>Every --train source loaded (one split each) and concatenated in order (HF's concatenate_datasets).</summary>
    internal static Dataset LoadTrainingData(IReadOnlyList<string> paths, string split, string? textColumn, string? pairColumn, string? labelColumn,
        IReadOnlyList<string>? labelNames)
    {
        var parts = paths.Select(path => DataSource.Load(path, split, textColumn, pairColumn, labelColumn, labelNames)).ToList();
        try
        {
            return Dataset.ConcatenateDatasets(parts);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(
                $"The --train sources {string.Join(", ", paths)} cannot be concatenated: {e.Message} (for labels, --labels NEG,POS gives every source the same names)", e);
        }
    }

    /// <summary>--validation-split-percentage P: a seeded P% of the training rows (drawn before tokenizing) becomes the validation set.</summary>
    internal static (Dataset Train, Dataset Validation) HoldOut(Dataset train, int percent, int seed)
    {
        var split = train.TrainTestSplit(testSize: percent / 100.0, seed: seed);
        return (split["train"], split["test"]);
    }

    private static int? ValidationPercent(ParsedArguments args)
    {
        int? percent = args.GetInt("validation-split-percentage", min: 1);
        if (percent is > 99) throw new CliUsageException($"--validation-split-percentage must be between 1 and 99, got {percent}");
        if (percent is not null && args.Has("validation")) throw new CliUsageException("give either --validation or --validation-split-percentage, not both");
        return percent;
    }

    internal static DType SaveDtype(ParsedArguments args) => args.GetChoice("save-dtype", "float32", "float16", "bfloat16") switch
    {
        "float16" => DType.F16,
        "bfloat16" => DType.BF16,
        _ => DType.F32,
    };

    internal static TrainingArguments ParseTrainingArguments(ParsedArguments args, string outputDir)
    {
        var result = new TrainingArguments { OutputDir = outputDir };
        foreach (string name in TrainingArguments.Names)
        {
            if (NotFlags.Contains(name)) continue;
            string flag = name.Replace('_', '-');
            if (!args.Has(flag)) continue;
            string? value = args.Get(flag);
            if (name == "resume_from_checkpoint")
            {
                value = value is null or "" or "latest" or "last" ? "last" : value;
            }
            else if (value == "" || (value is null && args.Flag(flag)))
            {
                value = "true";
            }
            try
            {
                result = result.With(name, value);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException($"--{flag}: {e.Message}");
            }
        }
        try
        {
            return result.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>
    /// run_glue's rule: an output dir that holds files but no checkpoint is refused unless
    /// --overwrite-output-dir; one with checkpoints resumes from the latest (unless told otherwise).
    /// </summary>
    internal static TrainingArguments ResolveOutputDir(TrainingArguments args, CliContext context)
    {
        if (!Directory.Exists(args.OutputDir) || args.OverwriteOutputDir) return args;
        string? last = Checkpoints.GetLastCheckpoint(args.OutputDir);
        if (last is null && Directory.EnumerateFileSystemEntries(args.OutputDir).Any())
        {
            throw new CliUsageException($"Output directory ({args.OutputDir}) already exists and is not empty. Use --overwrite-output-dir to overcome.");
        }
        if (last is not null && args.ResumeFromCheckpoint is null)
        {
            context.Error.WriteLine($"Checkpoint detected, resuming training at {last}. To avoid this behavior, change the --output-dir or add --overwrite-output-dir to train from scratch.");
            return args with { ResumeFromCheckpoint = last };
        }
        return args;
    }

    private static string DefaultValidationSplit(string path)
    {
        var splits = DataSource.AvailableSplits(path);
        if (splits.Count == 0) return "validation";
        foreach (string candidate in new[] { "validation", "dev", "valid", "val", "test" })
        {
            if (splits.Contains(candidate)) return candidate;
        }
        return "validation";
    }

    internal static IReadOnlyList<string>? ParseLabels(string? raw)
    {
        if (raw is null) return null;
        var names = raw.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(n => n.Length == 0)) throw new CliUsageException($"--labels expects comma-separated class names, got '{raw}'");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length) throw new CliUsageException($"--labels names a class twice: '{raw}'");
        return names;
    }

    internal static Dictionary<string, string>? ParseOverrides(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new CliUsageException($"--config-overrides: '{part}' is not of the form key=value");
            result[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        return result;
    }

    /// <summary>--max-length, else the tokenizer's model_max_length, never beyond the model's position table.</summary>
    internal static int EffectiveMaxLength(int? requested, PreTrainedTokenizer tokenizer, SequenceClassificationModel model) =>
        EffectiveMaxLength(requested, tokenizer, MaxPositions(model.Config));

    /// <summary>The longest input a model's position table allows (int.MaxValue when nothing bounds it).</summary>
    internal static int MaxPositions(Models.Configuration.PretrainedConfig config) => config switch
    {
        Models.Bert.BertConfig b => b.MaxPositionEmbeddings,
        Models.DistilBert.DistilBertConfig d => d.MaxPositionEmbeddings,
        _ => int.MaxValue,
    };

    internal static int EffectiveMaxLength(int? requested, PreTrainedTokenizer tokenizer, int positions)
    {
        long tokenizerMax = tokenizer.ModelMaxLength;
        int limit = (int)Math.Min(positions, Math.Min(tokenizerMax, int.MaxValue));
        if (requested is int r)
        {
            if (r > positions) throw new CliUsageException($"--max-length {r} is beyond the model's max_position_embeddings ({positions})");
            return r;
        }
        return limit == int.MaxValue ? 512 : limit;
    }

    internal static Dataset Tokenize(Dataset dataset, PreTrainedTokenizer tokenizer, int maxLength)
    {
        bool pairs = dataset.ColumnNames.Contains(DataSource.TextPairColumn);
        var textColumns = pairs ? new[] { DataSource.TextColumn, DataSource.TextPairColumn } : new[] { DataSource.TextColumn };
        return dataset.Map(batch => tokenizer.Call(batch.Column<string>(DataSource.TextColumn),
                pairs ? batch.Column<string>(DataSource.TextPairColumn) : null,
                truncation: Truncation.LongestFirst, maxLength: maxLength),
            batched: true, removeColumns: textColumns);
    }

    /// <summary>
    /// The rows longest first, so evaluation batches pad little (a mix of SST-2 sentences and IMDb
    /// reviews in dataset order pads nearly every batch to 512). The metrics do not depend on the
    /// order: accuracy and F1 count examples, and eval_loss sums each batch's mean times its size.
    /// </summary>
    internal static Dataset SortedByLength(Dataset tokenized)
    {
        var lengths = LengthGroupedSampler.LengthsOf(tokenized);
        return tokenized.Select(Enumerable.Range(0, lengths.Length).OrderByDescending(i => lengths[i]));
    }

    /// <summary>The Trainer's progress bar writes to the command's error stream: a live bar on a terminal, log lines otherwise.</summary>
    internal static void RouteProgressTo(Trainer trainer, CliContext context)
    {
        trainer.PopCallback<ProgressCallback>();
        trainer.PopCallback<PrinterCallback>();
        bool terminal = ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected;
        trainer.AddCallback(trainer.Args.DisableTqdm ? new PrinterCallback(context.Error) : new ProgressCallback(context.Error, terminal));
    }

    /// <summary>
    /// HF's log_metrics: "***** train metrics *****", then one aligned line per key (sorted): runtimes
    /// as h:mm:ss.ff, total_flos in GF (value >> 30), other floats rounded to 4 digits.
    /// </summary>
    internal static void PrintMetrics(string split, IReadOnlyDictionary<string, object> metrics, TextWriter output)
    {
        output.WriteLine($"***** {split} metrics *****");
        int width = metrics.Keys.Max(k => k.Length);
        foreach (var (key, value) in metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string text = value switch
            {
                double seconds when key.EndsWith("_runtime", StringComparison.Ordinal) =>
                    TimeSpan.FromSeconds(Math.Floor(seconds)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) +
                    "." + ((int)((seconds - Math.Floor(seconds)) * 100)).ToString("D2", CultureInfo.InvariantCulture),
                double flos when key == "total_flos" => $"{(long)flos >> 30}GF",
                double number => PythonJson.FormatFloat(PythonJson.Round(number, 4)),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
            };
            output.WriteLine($"  {key.PadRight(width)} = {text}");
        }
    }
}

/// <summary>
/// How many classes the model gets and what they are called, decided as run_glue does: explicit
/// --labels or --num-labels first; else the training data's classes (float labels: regression with
/// one output). Names come from the data when it has real names (aclImdb's neg/pos), else the
/// model's own when it has that many labels, else LABEL_0…; the head is re-initialised (with
/// transformers' report) when its size differs.
/// </summary>
internal sealed record TrainingLabels(int Count, IReadOnlyList<string>? Names, bool Regression)
{
    public static TrainingLabels Decide(Dataset train, IReadOnlyList<string>? labelNames, int? numLabels)
    {
        var feature = train.Features[DataSource.LabelColumn];
        if (feature is not ClassLabel classes)
        {
            if (labelNames is not null || numLabels is > 1)
            {
                throw new InvalidDataException($"The training labels are numbers ({feature}), which means regression with one output; --labels and --num-labels are for classes.");
            }
            return new TrainingLabels(1, null, Regression: true);
        }
        if (labelNames is not null) return new TrainingLabels(labelNames.Count, labelNames, false);
        if (numLabels is int n)
        {
            if (n < classes.NumClasses)
            {
                throw new InvalidDataException($"--num-labels {n}, but the training data has {classes.NumClasses} classes ({string.Join(", ", classes.Names)}).");
            }
            return new TrainingLabels(n, null, false);
        }
        bool numericNames = classes.Names.Select((name, i) => name == i.ToString(CultureInfo.InvariantCulture)).All(x => x);
        return new TrainingLabels(classes.NumClasses, numericNames ? null : classes.Names, false);
    }

    /// <summary>from_pretrained options: labels, config overrides, head re-initialisation when the size changes, the seed for new weights.</summary>
    public FromPretrainedOptions ModelOptions(Models.Configuration.PretrainedConfig config, IReadOnlyDictionary<string, string>? overrides, int seed, Action<string> log)
    {
        IReadOnlyDictionary<int, string>? id2Label = Names?.Select((name, i) => (name, i)).ToDictionary(p => p.i, p => p.name);
        if (id2Label is null && !Regression && config.NumLabels != Count)
        {
            id2Label = Models.Configuration.PretrainedConfig.DefaultLabels(Count);
        }
        return new FromPretrainedOptions
        {
            ConfigOverrides = overrides,
            Id2Label = id2Label,
            NumLabels = Count,
            ProblemType = Regression ? "regression" : "single_label_classification",
            IgnoreMismatchedSizes = config.NumLabels != Count,
            Seed = seed,
            Log = log,
        };
    }
}

/// <summary>
/// Where the model comes from: a trained folder (--model, whose tokenizer is used unless
/// --tokenizer-name says otherwise), or a config for a seeded random initialisation (--config-name,
/// with --tokenizer-name), as run_mlm's model_name_or_path / config_name / tokenizer_name.
/// </summary>
internal sealed record ModelSource(string? ModelPath, string ConfigPath, string TokenizerPath)
{
    public static ModelSource From(ParsedArguments args)
    {
        string? model = args.Get("model");
        string? configName = args.Get("config-name");
        if (model is null && configName is null)
        {
            throw new CliUsageException("missing required option '--model' (or --config-name with --tokenizer-name to train from scratch)");
        }
        if (model is not null && configName is not null)
        {
            throw new CliUsageException("give either --model (continue from a trained folder) or --config-name (start from a random initialisation), not both");
        }
        string tokenizer = args.Get("tokenizer-name") ?? model
            ?? throw new CliUsageException("--config-name needs --tokenizer-name DIR: the tokenizer files to train with");
        return new ModelSource(model, model ?? configName!, tokenizer);
    }
}
