using Sharpformers.Cli.Infrastructure;
using Sharpformers.Models;
using Sharpformers.Tensors;
using Sharpformers.Tokenizers;
using Sharpformers.Training;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers train --task masked-lm`: transformers' run_mlm.py — texts of the --train sources
/// (labels ignored) tokenized with their special-tokens masks, packed into blocks of --block-size
/// (group_texts) or kept line by line, masked on the fly by <see cref="DataCollatorForLanguageModeling"/>,
/// trained by the Trainer from a seeded random initialisation (--config-name) or a model folder
/// (--model); evaluation reports eval_loss and perplexity.
/// </summary>
internal static class MaskedLMTraining
{
    public const string Task = "masked-lm";

    /// <summary>run_mlm's cap on the default block size (model_max_length can be huge).</summary>
    private const int MaxDefaultBlockSize = 1024;

    public static int Run(ParsedArguments args, CliContext context, ModelSource source, IReadOnlyList<string> trainPaths,
        TrainingArguments trainingArgs, int? validationPercent, DType saveDtype)
    {
        double mlmProbability = args.GetDouble("mlm-probability") ?? 0.15;
        if (!(mlmProbability > 0 && mlmProbability < 1)) throw new CliUsageException($"--mlm-probability must be between 0 and 1, got {mlmProbability}");
        bool lineByLine = args.Flag("line-by-line");
        int? requestedBlock = args.GetInt("block-size", min: 1);
        if (lineByLine && requestedBlock is not null) throw new CliUsageException("--block-size packs texts into blocks; with --line-by-line use --max-length");
        var overrides = TrainCommand.ParseOverrides(args.Get("config-overrides"));

        // Data first: a bad file should fail before a model is built.
        string? textColumn = args.Get("text-column");
        string split = args.Get("split") ?? "train";
        var train = Dataset.ConcatenateDatasets(trainPaths
            .Select(path => DataSource.Load(path, split, textColumn).SelectColumns(DataSource.TextColumn)).ToList());
        Dataset? validation = null;
        if (args.Get("validation") is string validationPath)
        {
            string validationSplit = args.Get("validation-split") ?? "validation";
            validation = DataSource.Load(validationPath, validationSplit, textColumn).SelectColumns(DataSource.TextColumn);
        }
        else if (validationPercent is int percent)
        {
            (train, validation) = TrainCommand.HoldOut(train, percent, trainingArgs.Seed);
        }

        var tokenizer = AutoTokenizer.FromPretrained(source.TokenizerPath);
        var options = new FromPretrainedOptions
        {
            ConfigOverrides = overrides,
            Seed = trainingArgs.Seed,
            Log = message => context.Error.WriteLine($"warning: {message}"),
        };
        using var model = source.ModelPath is string modelPath
            ? AutoModelForMaskedLM.FromPretrained(modelPath, options)
            : AutoModelForMaskedLM.FromConfig(Models.Configuration.AutoConfig.FromPretrained(source.ConfigPath, options), trainingArgs.Seed);
        int positions = MaxPositions(model);
        if (model.VocabSize < tokenizer.Count)
        {
            throw new InvalidDataException($"The tokenizer at {source.TokenizerPath} has {tokenizer.Count} tokens but the model's vocab_size is {model.VocabSize}.");
        }

        Dataset tokenizedTrain;
        Dataset? tokenizedValidation;
        string shape;
        if (lineByLine)
        {
            int maxLength = TrainCommand.EffectiveMaxLength(args.GetInt("max-length", min: 1), tokenizer, positions);
            tokenizedTrain = LanguageModelingData.Tokenize(train, tokenizer, maxLength);
            tokenizedValidation = validation is null ? null : LanguageModelingData.Tokenize(validation, tokenizer, maxLength);
            shape = $"one example per text, truncated to {maxLength} tokens";
        }
        else
        {
            int blockSize = BlockSize(requestedBlock, tokenizer, positions, context);
            tokenizedTrain = LanguageModelingData.GroupTexts(LanguageModelingData.Tokenize(train, tokenizer), blockSize);
            tokenizedValidation = validation is null ? null : LanguageModelingData.GroupTexts(LanguageModelingData.Tokenize(validation, tokenizer), blockSize);
            shape = $"blocks of {blockSize} tokens";
        }
        if (tokenizedTrain.NumRows == 0) throw new InvalidDataException($"{string.Join(", ", trainPaths)}: no training example is left (the texts are shorter than one block?).");

        var trainer = new Trainer(model.AsTrainable(), trainingArgs, tokenizedTrain, tokenizedValidation,
            new DataCollatorForLanguageModeling(tokenizer, mlmProbability))
        {
            ShuffleTrainData = !args.Flag("no-shuffle"),
            SaveTokenizerFiles = directory => tokenizer.SavePretrained(directory),
        };
        TrainCommand.RouteProgressTo(trainer, context);
        context.Error.WriteLine($"Training {model.ClassName} ({model.TrainableParameters.Sum(x => (long)x.Value.Length):N0} parameters{(source.ModelPath is null ? ", from scratch" : "")}) " +
            $"on {tokenizedTrain.NumRows:N0} examples ({train.NumRows:N0} texts, {shape})" +
            (validation is null ? "" : $", evaluating on {tokenizedValidation!.NumRows:N0} ({validation.NumRows:N0} texts)") +
            $"; masking {mlmProbability.ToString(System.Globalization.CultureInfo.InvariantCulture)} of the tokens.");
        var result = trainer.Train();

        // run_mlm: perplexity = math.exp(eval_loss), inf on overflow.
        return TrainCommand.FinishRun(trainer, result, model, saveDtype, tokenizedTrain.NumRows, validation is null ? null : tokenizedValidation!.NumRows, context,
            evalMetrics => evalMetrics["perplexity"] = Perplexity((double)evalMetrics["eval_loss"]));
    }

    /// <summary>exp(loss), as run_mlm reports it (infinity when it overflows).</summary>
    public static double Perplexity(double evalLoss) => Math.Exp(evalLoss);

    private static int MaxPositions(MaskedLMModel model) => TrainCommand.MaxPositions(model.Config);

    /// <summary>run_mlm's max_seq_length: --block-size, else model_max_length capped at 1024; never beyond the position table.</summary>
    private static int BlockSize(int? requested, PreTrainedTokenizer tokenizer, int positions, CliContext context)
    {
        if (requested is int r)
        {
            if (r > positions) throw new CliUsageException($"--block-size {r} is beyond the model's max_position_embeddings ({positions})");
            if (r > tokenizer.ModelMaxLength)
            {
                context.Error.WriteLine($"warning: --block-size {r} is larger than the tokenizer's model_max_length ({tokenizer.ModelMaxLength}).");
            }
            return r;
        }
        long fromTokenizer = Math.Min(tokenizer.ModelMaxLength, MaxDefaultBlockSize);
        return (int)Math.Min(fromTokenizer, positions);
    }
}
