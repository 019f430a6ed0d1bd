using Sharpformers.Kernels;
using Sharpformers.Models;
using Sharpformers.Tensors;
using Sharpformers.Tokenizers;

namespace Sharpformers.Pipelines;

/// <summary>
/// transformers' TextClassificationPipeline ("text-classification", alias "sentiment-analysis"):
/// <see cref="Preprocess"/> (tokenize) → <see cref="Forward"/> (model logits) →
/// <see cref="Postprocess"/> (softmax/sigmoid, labels by score, top k).
/// </summary>
public sealed class TextClassificationPipeline : IDisposable
{
    private readonly bool ownsModel;

    public TextClassificationPipeline(SequenceClassificationModel model, PreTrainedTokenizer tokenizer, TextClassificationOptions? defaults = null)
        : this(model, tokenizer, defaults, ownsModel: false)
    {
    }

    internal TextClassificationPipeline(SequenceClassificationModel model, PreTrainedTokenizer tokenizer, TextClassificationOptions? defaults, bool ownsModel)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Defaults = defaults ?? new TextClassificationOptions();
        Defaults.Validate();
        this.ownsModel = ownsModel;
    }

    public SequenceClassificationModel Model { get; }

    public PreTrainedTokenizer Tokenizer { get; }

    /// <summary>The options calls use when they pass none.</summary>
    public TextClassificationOptions Defaults { get; }

    /// <summary>Classifies one text.</summary>
    public ClassificationResult Invoke(string text, TextClassificationOptions? options = null) => Invoke(new TextInput(text), options);

    /// <summary>Classifies one text or pair.</summary>
    public ClassificationResult Invoke(TextInput input, TextClassificationOptions? options = null) => Invoke([input], options)[0];

    /// <summary>Classifies texts, one result per text, in order.</summary>
    public IReadOnlyList<ClassificationResult> Invoke(IEnumerable<string> texts, TextClassificationOptions? options = null) =>
        Invoke(texts.Select(t => new TextInput(t ?? throw new ArgumentException("A text is null.", nameof(texts)))), options);

    /// <summary>Classifies texts and pairs, one result per input, in order, BatchSize inputs per forward pass.</summary>
    public IReadOnlyList<ClassificationResult> Invoke(IEnumerable<TextInput> inputs, TextClassificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= Defaults;
        options.Validate();
        var all = inputs.ToList();
        if (options.BatchSize > 1 && options.SortByLength && all.Count > 1) return InvokeSortedByLength(all, options);
        var results = new List<ClassificationResult>(all.Count);
        foreach (var batch in Batches(all, options.BatchSize))
        {
            var encoding = Preprocess(batch, options);
            var logits = Forward(encoding);
            results.AddRange(Postprocess(batch, logits, options));
        }
        return results;
    }

    /// <summary>
    /// Length-sorted batching: texts and pairs are each tokenized in one call (on the kernel threads),
    /// ordered by token count, cut into batches of BatchSize padded to their longest, and the results put
    /// back in input order.
    /// </summary>
    private IReadOnlyList<ClassificationResult> InvokeSortedByLength(List<TextInput> all, TextClassificationOptions options)
    {
        var results = new ClassificationResult[all.Count];
        for (int i = 0; i < all.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(all[i], nameof(all));
            if (all[i].Text is null) throw new ArgumentException("An input's Text is null.", nameof(all));
        }
        foreach (bool pairs in new[] { false, true })
        {
            var indices = Enumerable.Range(0, all.Count).Where(i => (all[i].TextPair is not null) == pairs).ToArray();
            if (indices.Length == 0) continue;
            var encoded = Tokenizer.Call(indices.Select(i => all[i].Text).ToList(), pairs ? indices.Select(i => all[i].TextPair!).ToList() : null,
                padding: false, truncation: options.Truncation, maxLength: options.MaxLength, maxDegreeOfParallelism: KernelParallel.MaxThreads);
            var encodings = encoded.Encodings;
            var order = Enumerable.Range(0, indices.Length).OrderBy(j => encodings[j].Length).ToArray(); // stable
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                var chunk = order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start)).ToArray();
                var batch = Tokenizer.Pad(chunk.Select(j => encodings[j]).ToList(), PaddingStrategy.Longest);
                var batchInputs = chunk.Select(j => all[indices[j]]).ToList();
                var scored = Postprocess(batchInputs, Forward(batch), options);
                for (int b = 0; b < chunk.Length; b++) results[indices[chunk[b]]] = scored[b];
            }
        }
        return results;
    }

    /// <summary>Tokenizes a batch (padded to its longest when it holds more than one input).</summary>
    public BatchEncoding Preprocess(IReadOnlyList<TextInput> batch, TextClassificationOptions options)
    {
        var texts = batch.Select(i => i.Text ?? throw new ArgumentException("An input's Text is null.", nameof(batch))).ToList();
        bool pairs = batch.Any(i => i.TextPair is not null);
        if (pairs && batch.Any(i => i.TextPair is null))
        {
            throw new ArgumentException("A batch mixes single texts and text pairs; Invoke groups them, so call Preprocess with one kind.", nameof(batch));
        }
        return Tokenizer.Call(texts, pairs ? batch.Select(i => i.TextPair!).ToList() : null,
            padding: batch.Count > 1, truncation: options.Truncation, maxLength: options.MaxLength);
    }

    /// <summary>The model's logits (B, num_labels) for a tokenized batch.</summary>
    public Tensor Forward(BatchEncoding encoding) => Model.Forward(encoding).Logits;

    /// <summary>Scores, labels by descending score (ties keep label order), cut to TopK.</summary>
    public IReadOnlyList<ClassificationResult> Postprocess(IReadOnlyList<TextInput> batch, Tensor logits, TextClassificationOptions options)
    {
        int numLabels = logits.Shape[^1];
        var function = options.FunctionToApply ?? DefaultFunction();
        var results = new List<ClassificationResult>(batch.Count);
        for (int b = 0; b < batch.Count; b++)
        {
            var row = logits[b].ToArray();
            var scores = new float[numLabels];
            switch (function)
            {
                case ClassificationFunction.Softmax: Softmax.Rows(row, numLabels, scores); break;
                case ClassificationFunction.Sigmoid: Activations.Sigmoid(row, scores); break;
                default: row.CopyTo(scores, 0); break;
            }
            var ranked = Enumerable.Range(0, numLabels)
                .Select(i => new LabelScore(LabelOf(i), scores[i]))
                .OrderByDescending(s => s.Score) // stable: equal scores keep label order, as Python's sort
                .Take(options.TopK ?? numLabels)
                .ToList();
            results.Add(new ClassificationResult(batch[b], ranked, row));
        }
        return results;
    }

    public void Dispose()
    {
        if (ownsModel) Model.Dispose();
    }

    /// <summary>
    /// transformers' rule when function_to_apply is not given: sigmoid for multi-label problems or a single
    /// label, softmax otherwise.
    /// </summary>
    private ClassificationFunction DefaultFunction()
    {
        var config = Model.Config;
        if (config.ProblemType == "multi_label_classification" || config.NumLabels == 1) return ClassificationFunction.Sigmoid;
        if (config.ProblemType == "single_label_classification" || config.NumLabels > 1) return ClassificationFunction.Softmax;
        return ClassificationFunction.None;
    }

    private string LabelOf(int id) => Model.Config.Id2Label.TryGetValue(id, out var label) ? label : $"LABEL_{id}";

    /// <summary>Consecutive inputs of the same kind (texts or pairs), at most <paramref name="size"/> each.</summary>
    private static IEnumerable<List<TextInput>> Batches(List<TextInput> inputs, int size)
    {
        var current = new List<TextInput>(size);
        foreach (var input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input);
            if (current.Count == size || (current.Count > 0 && (current[0].TextPair is null) != (input.TextPair is null)))
            {
                yield return current;
                current = new List<TextInput>(size);
            }
            current.Add(input);
        }
        if (current.Count > 0) yield return current;
    }
}
