using Sharpformers.Hub;

namespace Sharpformers.Tokenizers;

/// <summary>
/// Turns the <c>pathOrName</c> given to <see cref="AutoTokenizer.FromPretrained"/> into a local folder: an
/// existing folder as is, or a Hub repo id through <see cref="PretrainedFiles"/> (the Hugging Face cache,
/// honouring the options' Revision, CacheDir, LocalFilesOnly, Token and HF_HUB_OFFLINE), whose snapshot
/// folder then holds every tokenizer file the repository has. Either way each tokenizer file is checked
/// not to be a Git LFS pointer left by a clone without LFS.
/// </summary>
public static class TokenizerSource
{
    /// <summary>Every file a tokenizer may read; a repository's are fetched, the ones it lacks are skipped.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "tokenizer_config.json", "config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
        "vocab.txt", "vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "spiece.model", "sentencepiece.bpe.model", "spm.model",
    ];

    /// <summary>The local folder for <paramref name="pathOrName"/>.</summary>
    public static string ResolveFolder(string pathOrName, TokenizerLoadOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (File.Exists(pathOrName))
        {
            throw new ArgumentException(
                $"'{pathOrName}' is a file; FromPretrained expects the folder that holds the tokenizer files, or a Hub repo id ('org/name')", nameof(pathOrName));
        }
        return PretrainedFiles.ResolveFolder(pathOrName, FileNames, options);
    }
}
