using Sharpformers.Hub;

namespace Sharpformers.Models;

/// <summary>
/// The keyword arguments of transformers' <c>from_pretrained</c>: where the files come from (inherited
/// from <see cref="HubOptions"/>: <c>Revision</c>, <c>CacheDir</c>, <c>LocalFilesOnly</c>, <c>Token</c>,
/// <c>Endpoint</c>, <c>ForceDownload</c>, as revision=, cache_dir=, local_files_only=, token=), config
/// overrides applied after config.json is read, and how to treat weights the checkpoint does not match.
/// </summary>
public sealed class FromPretrainedOptions : HubOptions
{
    public FromPretrainedOptions()
    {
    }

    /// <summary>Options that reach the Hub the way <paramref name="hub"/> does, with the other settings at their defaults.</summary>
    public FromPretrainedOptions(HubOptions hub)
        : base(hub)
    {
    }

    /// <summary>Return every layer's attention weights (output_attentions).</summary>
    public bool? OutputAttentions { get; init; }

    /// <summary>Return the embeddings' and every layer's hidden states (output_hidden_states).</summary>
    public bool? OutputHiddenStates { get; init; }

    /// <summary>A new label count; labels become LABEL_0… unless <see cref="Id2Label"/> is given too.</summary>
    public int? NumLabels { get; init; }

    /// <summary>New label names by class index (sets num_labels and label2id).</summary>
    public IReadOnlyDictionary<int, string>? Id2Label { get; init; }

    /// <summary>"regression", "single_label_classification" or "multi_label_classification".</summary>
    public string? ProblemType { get; init; }

    /// <summary>Any other config.json key as key → value text, parsed like transformers' update_from_string (the CLI's --config-overrides).</summary>
    public IReadOnlyDictionary<string, string>? ConfigOverrides { get; init; }

    /// <summary>Re-initialise weights whose checkpoint shape differs (e.g. a 2-label head loaded for 3 labels) instead of failing.</summary>
    public bool IgnoreMismatchedSizes { get; init; }

    /// <summary>
    /// Initialise missing encoder weights randomly (what transformers does, with a warning) instead of
    /// failing. New heads (classifier, pooler) are always initialised; this is about the rest.
    /// </summary>
    public bool AllowMissingWeights { get; init; }

    /// <summary>
    /// add_pooling_layer for a bare model (AutoModel, BertModel, RobertaModel, AlbertModel, …): false
    /// builds it without its pooler, as RobertaForSequenceClassification holds RoBERTa; null or true
    /// keeps the pooler. Architectures without a pooler ignore it.
    /// </summary>
    public bool? AddPoolingLayer { get; init; }

    /// <summary>Seed for newly initialised weights; null draws a fresh one.</summary>
    public int? Seed { get; init; }

    /// <summary>Where the load warning (newly initialised / unused weights) goes; null writes it to standard error, as transformers' logger does.</summary>
    public Action<string>? Log { get; init; }
}
