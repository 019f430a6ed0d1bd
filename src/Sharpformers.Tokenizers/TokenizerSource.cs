namespace Sharpformers.Tokenizers;

/// <summary>
/// Turns the <c>pathOrName</c> given to <see cref="AutoTokenizer.FromPretrained"/> into a local folder. This is
/// the one place a Hub repository id would be resolved (download into the cache, honouring the revision,
/// token and local-files-only options); set <see cref="HubResolver"/> to plug that in.
/// </summary>
public static class TokenizerSource
{
    /// <summary>
    /// Resolves a name that is not a local folder (e.g. "bert-base-uncased") to a folder holding the tokenizer
    /// files, or returns null when it cannot. Null (the default): only local folders are accepted.
    /// </summary>
    public static Func<string, TokenizerLoadOptions, string?>? HubResolver { get; set; }

    /// <summary>The local folder for <paramref name="pathOrName"/>.</summary>
    public static string ResolveFolder(string pathOrName, TokenizerLoadOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (Directory.Exists(pathOrName)) return Path.GetFullPath(pathOrName);
        if (File.Exists(pathOrName))
        {
            throw new ArgumentException(
                $"'{pathOrName}' is a file; FromPretrained expects the folder that holds the tokenizer files", nameof(pathOrName));
        }
        if (HubResolver?.Invoke(pathOrName, options) is { } folder && Directory.Exists(folder)) return folder;
        throw new DirectoryNotFoundException(
            $"'{pathOrName}' is not a local folder" + (HubResolver is null
                ? " (loading by Hub repository id is not available in this build; download the files and pass their folder)"
                : " and could not be resolved on the Hugging Face Hub"));
    }
}
