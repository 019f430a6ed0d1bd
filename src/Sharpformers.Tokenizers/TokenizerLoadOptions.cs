using System.Text.Json.Nodes;
using Sharpformers.Hub;

namespace Sharpformers.Tokenizers;

/// <summary>
/// Options of <see cref="AutoTokenizer.FromPretrained"/> (the keyword arguments of transformers' <c>from_pretrained</c>).
/// Where the files come from is inherited from <see cref="HubOptions"/> (<c>Revision</c>, <c>CacheDir</c>,
/// <c>LocalFilesOnly</c>, <c>Token</c>, <c>Endpoint</c>), the same properties a model's options have.
/// </summary>
public sealed class TokenizerLoadOptions : HubOptions
{
    public TokenizerLoadOptions()
    {
    }

    /// <summary>Options that reach the Hub the way <paramref name="hub"/> does (a pipeline passes its model's).</summary>
    public TokenizerLoadOptions(HubOptions hub)
        : base(hub)
    {
    }

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
