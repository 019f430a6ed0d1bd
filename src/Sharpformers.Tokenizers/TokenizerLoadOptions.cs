using System.Text.Json.Nodes;

namespace Sharpformers.Tokenizers;

/// <summary>Options of <see cref="AutoTokenizer.FromPretrained"/> (the keyword arguments of transformers' <c>from_pretrained</c>).</summary>
public sealed record TokenizerLoadOptions
{
    /// <summary>Branch, tag or commit of a Hub repository (used once Hub resolution is wired in).</summary>
    public string? Revision { get; init; }

    /// <summary>Where downloaded files are cached (used once Hub resolution is wired in).</summary>
    public string? CacheDir { get; init; }

    /// <summary>Never go to the network; only local folders and the cache.</summary>
    public bool LocalFilesOnly { get; init; }

    /// <summary>Hub access token for private repositories.</summary>
    public string? Token { get; init; }

    /// <summary>
    /// Load tokenizer.json when the folder has one (transformers' <c>use_fast=True</c>, the default); false
    /// builds the tokenizer from the vocabulary files with the Python tokenizers' behaviour.
    /// </summary>
    public bool UseFast { get; init; } = true;

    /// <summary>
    /// tokenizer_config.json entries to set or replace, as keyword arguments do in Python, e.g.
    /// <c>{"do_lower_case": false}</c>.
    /// </summary>
    public JsonObject? ConfigOverrides { get; init; }
}
