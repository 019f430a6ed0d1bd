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

/// <summary>The model a task uses when none is given: the one place to point at the default model once it ships.</summary>
public static class DefaultModels
{
    /// <summary>The default model folder for <paramref name="task"/>; for now there is none, so this explains what to pass.</summary>
    public static string For(string task) =>
        throw new ArgumentException(
            $"No default model for '{task}' is available yet: pass a model folder (config.json, weights and tokenizer files) or a Hub repo id.");
}
