using Sharpformers.Models;
using Sharpformers.Tokenizers;

namespace Sharpformers.Pipelines;

/// <summary>
/// transformers' <c>pipeline(task, model, tokenizer)</c>. With <c>using static Sharpformers.Pipelines.PipelineFactory;</c>
/// it reads as in Python: <c>var classifier = Pipeline("sentiment-analysis", model: "path/to/model");</c>
/// </summary>
public static class PipelineFactory
{
    /// <summary>The task names accepted: "text-classification" and its alias "sentiment-analysis".</summary>
    public static IReadOnlyList<string> Tasks { get; } = ["text-classification", "sentiment-analysis"];

    /// <summary>
    /// A pipeline over a model folder or Hub repo id; the tokenizer comes from <paramref name="tokenizer"/> or the
    /// same place. <paramref name="modelOptions"/>' Hub settings (Revision, CacheDir, LocalFilesOnly, Token, …)
    /// apply to the tokenizer too, as pipeline()'s revision= and token= do.
    /// The pipeline owns the model it loads: dispose it to unmap the weights.
    /// </summary>
    public static TextClassificationPipeline Pipeline(string task, string? model = null, string? tokenizer = null,
        TextClassificationOptions? options = null, FromPretrainedOptions? modelOptions = null)
    {
        CheckTask(task);
        string nameOrPath = model ?? DefaultModels.For(task);
        modelOptions ??= new FromPretrainedOptions();
        var tok = AutoTokenizer.FromPretrained(tokenizer ?? nameOrPath, new TokenizerLoadOptions(modelOptions));
        var loaded = AutoModelForSequenceClassification.FromPretrained(nameOrPath, modelOptions);
        return new TextClassificationPipeline(loaded, tok, options, ownsModel: true);
    }

    /// <summary>A pipeline over a model and tokenizer already loaded (the caller keeps ownership of the model).</summary>
    public static TextClassificationPipeline Pipeline(string task, SequenceClassificationModel model, PreTrainedTokenizer tokenizer,
        TextClassificationOptions? options = null)
    {
        CheckTask(task);
        return new TextClassificationPipeline(model, tokenizer, options);
    }

    private static void CheckTask(string task)
    {
        if (!Tasks.Contains(task))
        {
            throw new ArgumentException($"Unknown pipeline task '{task}'; supported: text-classification (alias sentiment-analysis).", nameof(task));
        }
    }
}

/// <summary>
/// The model a task uses when none is given (HF's SUPPORTED_TASKS default): the English sentiment
/// model Sharpformers trained itself, shipped beside the assemblies so it loads offline.
/// </summary>
public static class DefaultModels
{
    /// <summary>The folder name of the default sentiment model, under <c>models/</c> beside the assemblies (and in the repository).</summary>
    public const string SentimentFolderName = "default-sentiment";

    /// <summary>The default model folder for <paramref name="task"/> (both tasks share the sentiment model).</summary>
    /// <exception cref="ArgumentException">The task is not a text-classification task.</exception>
    /// <exception cref="DirectoryNotFoundException">The model was not copied next to the assemblies (a broken install).</exception>
    public static string For(string task)
    {
        if (!PipelineFactory.Tasks.Contains(task))
        {
            throw new ArgumentException($"No default model for '{task}'; supported: text-classification (alias sentiment-analysis).", nameof(task));
        }
        string folder = Path.Combine(AppContext.BaseDirectory, "models", SentimentFolderName);
        if (!File.Exists(Path.Combine(folder, "config.json")))
        {
            throw new DirectoryNotFoundException(
                $"The default model is missing: expected config.json, model.safetensors and tokenizer files in {folder} " +
                "(the build copies models/default-sentiment there); pass a model folder or a Hub repo id instead.");
        }
        return folder;
    }
}
