namespace Sharpformers.Tokenizers;

/// <summary>How a batch is padded (transformers' <c>PaddingStrategy</c>).</summary>
public enum PaddingStrategy
{
    /// <summary>No padding (padding=False).</summary>
    DoNotPad,

    /// <summary>Pad to the longest sequence of the batch (padding=True or "longest").</summary>
    Longest,

    /// <summary>Pad to max_length, or the model's maximum length when none is given (padding="max_length").</summary>
    MaxLength,
}

/// <summary>How sequences are truncated (transformers' <c>TruncationStrategy</c>).</summary>
public enum TruncationStrategy
{
    /// <summary>No truncation (truncation=False).</summary>
    DoNotTruncate,

    /// <summary>Remove tokens from the longer sequence first, one at a time (truncation=True or "longest_first").</summary>
    LongestFirst,

    /// <summary>Truncate only the first sequence of a pair.</summary>
    OnlyFirst,

    /// <summary>Truncate only the second sequence of a pair.</summary>
    OnlySecond,
}

/// <summary>
/// The <c>padding</c> argument: <c>true</c> (longest), <c>false</c>, or a <see cref="PaddingStrategy"/>; converts
/// implicitly from both, so <c>padding: true</c> reads like Python.
/// </summary>
public readonly record struct Padding(PaddingStrategy Strategy)
{
    public static Padding None => new(PaddingStrategy.DoNotPad);

    public static Padding Longest => new(PaddingStrategy.Longest);

    public static Padding MaxLength => new(PaddingStrategy.MaxLength);

    public static implicit operator Padding(bool pad) => new(pad ? PaddingStrategy.Longest : PaddingStrategy.DoNotPad);

    public static implicit operator Padding(PaddingStrategy strategy) => new(strategy);

    /// <summary>Parses "longest", "max_length", "do_not_pad", "true", "false".</summary>
    public static Padding Parse(string value) => value.ToLowerInvariant() switch
    {
        "longest" or "true" => Longest,
        "max_length" => MaxLength,
        "do_not_pad" or "false" => None,
        _ => throw new ArgumentException($"padding must be one of longest, max_length, do_not_pad; got '{value}'", nameof(value)),
    };
}

/// <summary>
/// The <c>truncation</c> argument: <c>true</c> (longest_first), <c>false</c>, a <see cref="TruncationStrategy"/>,
/// or unspecified (the default, Python's None: a max_length given alone then turns on longest_first).
/// </summary>
public readonly record struct Truncation
{
    private Truncation(TruncationStrategy strategy)
    {
        Strategy = strategy;
    }

    /// <summary>Null when the caller did not say (Python's None).</summary>
    public TruncationStrategy? Strategy { get; }

    public static Truncation Unspecified => default;

    public static Truncation LongestFirst => new(TruncationStrategy.LongestFirst);

    public static Truncation OnlyFirst => new(TruncationStrategy.OnlyFirst);

    public static Truncation OnlySecond => new(TruncationStrategy.OnlySecond);

    public static Truncation None => new(TruncationStrategy.DoNotTruncate);

    public static implicit operator Truncation(bool truncate) => new(truncate ? TruncationStrategy.LongestFirst : TruncationStrategy.DoNotTruncate);

    public static implicit operator Truncation(TruncationStrategy strategy) => new(strategy);

    /// <summary>Parses "longest_first", "only_first", "only_second", "do_not_truncate", "true", "false".</summary>
    public static Truncation Parse(string value) => value.ToLowerInvariant() switch
    {
        "longest_first" or "true" => LongestFirst,
        "only_first" => OnlyFirst,
        "only_second" => OnlySecond,
        "do_not_truncate" or "false" => None,
        _ => throw new ArgumentException(
            $"truncation must be one of longest_first, only_first, only_second, do_not_truncate; got '{value}'", nameof(value)),
    };
}

/// <summary>The arguments of a tokenizer call (transformers' <c>__call__</c>), for callers that pass them around.</summary>
public sealed record EncodeOptions
{
    public bool AddSpecialTokens { get; init; } = true;

    public Padding Padding { get; init; }

    public Truncation Truncation { get; init; }

    /// <summary>Maximum length in tokens (special tokens included); null: the model's maximum where needed.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Overlap between overflowing windows, with <see cref="ReturnOverflowingTokens"/>.</summary>
    public int Stride { get; init; }

    /// <summary>Round padded lengths up to a multiple of this.</summary>
    public int? PadToMultipleOf { get; init; }

    /// <summary>Return the truncated-away tokens as extra windows (with <c>OverflowToSampleMapping</c>).</summary>
    public bool ReturnOverflowingTokens { get; init; }

    /// <summary>Overrides the tokenizer's padding side for this call.</summary>
    public Side? PaddingSide { get; init; }

    /// <summary>Threads used for a batch (1: the calling thread only). Results keep the input order.</summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;
}
