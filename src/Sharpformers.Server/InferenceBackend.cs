using Sharpformers.Pipelines;
using Sharpformers.Tensors;
using Sharpformers.Tokenizers;
using TokenEncoding = Sharpformers.Tokenizers.Encoding;

namespace Sharpformers.Server;

/// <summary>What /info says about the model being served.</summary>
/// <param name="ModelId">The model's name: a Hub repo id ("org/name") for a cache snapshot, else the folder name.</param>
/// <param name="ModelSha">The Hub commit of a cache snapshot, else null.</param>
/// <param name="ModelPath">The model folder, or null when unknown.</param>
/// <param name="ModelType">config.json's model_type ("bert", "distilbert", ...).</param>
/// <param name="Architecture">The sequence-classification class, e.g. "BertForSequenceClassification".</param>
/// <param name="Id2Label">Class index to label.</param>
/// <param name="ProblemType">config.json's problem_type, or null.</param>
/// <param name="MaxInputLength">Most tokens one input may have (special tokens included).</param>
public sealed record ModelDescription(string ModelId, string? ModelSha, string? ModelPath, string ModelType, string Architecture,
    IReadOnlyDictionary<int, string> Id2Label, string? ProblemType, int MaxInputLength);

/// <summary>One input, tokenized on the request's thread and ready to be batched.</summary>
internal sealed record PreparedInput(TextInput Input, TokenEncoding Encoding);

/// <summary>
/// The model side of the server: tokenize one input (on request threads, concurrently), run one padded
/// batch (on the batcher's thread, one batch at a time), turn logits into ranked labels.
/// </summary>
internal interface IInferenceBackend
{
    ModelDescription Description { get; }

    /// <summary>False when the tokenizer has no padding token, so inputs of different lengths cannot share a batch.</summary>
    bool CanBatch { get; }

    /// <summary>Tokenizes an input; an input longer than the model accepts is a 422 naming <paramref name="path"/> and the limit.</summary>
    PreparedInput Prepare(TextInput input, bool truncation, string path);

    /// <summary>The logits of a batch, one row per input, in order.</summary>
    float[][] Forward(IReadOnlyList<PreparedInput> batch);

    /// <summary>Scores and ranks the labels of each input, as the pipeline's postprocess does.</summary>
    IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> inputs, float[][] logits, TextClassificationOptions options);
}

/// <summary>The backend over a text-classification pipeline: the pipeline's own Preprocess, Forward and Postprocess.</summary>
internal sealed class PipelineBackend : IInferenceBackend, IDisposable
{
    private readonly TextClassificationPipeline pipeline;
    private readonly bool ownsPipeline;

    public PipelineBackend(TextClassificationPipeline pipeline, string? modelPath, string? modelId, bool ownsPipeline)
    {
        this.pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        this.ownsPipeline = ownsPipeline;
        var config = pipeline.Model.Config;
        modelPath ??= config.SourcePath is { } source ? Path.GetDirectoryName(Path.GetFullPath(source)) : null;
        modelPath = modelPath is null ? null : Path.GetFullPath(modelPath);
        var (derivedId, sha) = IdentifyFolder(modelPath);
        Description = new ModelDescription(
            ModelId: modelId ?? derivedId ?? config.ModelType,
            ModelSha: sha,
            ModelPath: modelPath,
            ModelType: config.ModelType,
            Architecture: pipeline.Model.ClassName,
            Id2Label: config.Id2Label,
            ProblemType: config.ProblemType,
            MaxInputLength: MaxLengthOf(pipeline));
        CanBatch = pipeline.Tokenizer.PadTokenId is not null;
    }

    public ModelDescription Description { get; }

    public bool CanBatch { get; }

    public PreparedInput Prepare(TextInput input, bool truncation, string path)
    {
        int limit = Description.MaxInputLength;
        var options = new TextClassificationOptions { Truncation = truncation, MaxLength = truncation ? limit : null };
        var encoding = pipeline.Preprocess([input], options).Encodings[0];
        if (encoding.Length > limit)
        {
            string what = input.TextPair is null ? "text" : "text pair";
            string advice = truncation
                ? "truncation cannot shorten it enough (one side of the pair is too short to lose the excess)"
                : "send \"parameters\": {\"truncation\": true} to cut it to the limit";
            throw new ApiException(422, ErrorTypes.InputTooLong,
                $"{path} is a {what} of {encoding.Length} tokens; the model accepts at most {limit} tokens ({advice})");
        }
        return new PreparedInput(input, encoding);
    }

    public float[][] Forward(IReadOnlyList<PreparedInput> batch)
    {
        var rows = new float[batch.Count][];
        // Inputs of very different lengths run as a few passes of similar lengths rather than one padded to the longest.
        foreach (var group in PaddingPlanner.Split(batch.Select(b => b.Encoding.Length).ToArray(), pipeline.Model.Config.HiddenSize))
        {
            var encodings = new TokenEncoding[group.Length];
            for (int i = 0; i < group.Length; i++) encodings[i] = batch[group[i]].Encoding;
            var padded = pipeline.Tokenizer.Pad(encodings, Padding.Longest); // (b, T), masked
            var logits = pipeline.Forward(padded).ToJaggedArray(); // (b, num_labels)
            for (int i = 0; i < group.Length; i++) rows[group[i]] = logits[i];
        }
        return rows;
    }

    public IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> inputs, float[][] logits, TextClassificationOptions options)
    {
        int labels = logits.Length == 0 ? 0 : logits[0].Length;
        var flat = new float[logits.Length * labels];
        for (int i = 0; i < logits.Length; i++) logits[i].CopyTo(flat, i * labels);
        return pipeline.Postprocess(inputs, Tensor.FromArray(flat, logits.Length, labels), options);
    }

    /// <summary>One forward pass before the server listens, so the first client does not pay for JIT compilation.</summary>
    public void WarmUp() => Forward([Prepare(new TextInput("Hello, world!"), truncation: true, "warm-up")]);

    public void Dispose()
    {
        if (ownsPipeline) pipeline.Dispose();
    }

    /// <summary>
    /// The tokenizer's model_max_length, bounded by the model's max_position_embeddings (a tokenizer that
    /// states no limit would otherwise let an input overrun the position table).
    /// </summary>
    private static int MaxLengthOf(TextClassificationPipeline pipeline)
    {
        long limit = pipeline.Tokenizer.ModelMaxLength is > 0 and < int.MaxValue ? pipeline.Tokenizer.ModelMaxLength : int.MaxValue;
        var positions = pipeline.Model.Config.ToJsonObject()["max_position_embeddings"];
        if (positions is not null && positions.GetValueKind() == System.Text.Json.JsonValueKind.Number && positions.GetValue<int>() > 0)
        {
            limit = Math.Min(limit, positions.GetValue<int>());
        }
        return (int)limit;
    }

    /// <summary>"org/name" and the commit for a Hugging Face cache snapshot (models--org--name/snapshots/SHA), else the folder name.</summary>
    private static (string? Id, string? Sha) IdentifyFolder(string? path)
    {
        if (path is null) return (null, null);
        var folder = new DirectoryInfo(Path.TrimEndingDirectorySeparator(path));
        if (folder.Parent is { Name: "snapshots", Parent: { } repo } && repo.Name.StartsWith("models--", StringComparison.Ordinal))
        {
            return (repo.Name["models--".Length..].Replace("--", "/", StringComparison.Ordinal), folder.Name);
        }
        return (folder.Name, null);
    }
}
