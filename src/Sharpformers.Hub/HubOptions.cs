namespace Sharpformers.Hub;

/// <summary>The kind of Hub repository: its cache folder prefix and URL prefix differ.</summary>
public enum HubRepoType
{
    Model,
    Dataset,
    Space,
}

/// <summary>
/// How to reach a file on the Hub or in the cache: the Python <c>from_pretrained</c> /
/// <c>hf_hub_download</c> keyword arguments in .NET casing. Unset values come from
/// <see cref="Environment"/> (HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE) like in Python.
/// </summary>
/// <remarks>
/// Not sealed on purpose: every <c>FromPretrained</c> options type (models' <c>FromPretrainedOptions</c>,
/// <c>TokenizerLoadOptions</c>) derives from it, so <c>Revision</c>, <c>CacheDir</c>,
/// <c>LocalFilesOnly</c> and <c>Token</c> are spelled and behave the same in every layer, and the
/// options object itself is what reaches <see cref="PretrainedFiles"/>.
/// </remarks>
public class HubOptions
{
    public HubOptions()
    {
    }

    /// <summary>A copy of <paramref name="other"/>'s Hub settings (a pipeline hands the model's to its tokenizer this way).</summary>
    protected HubOptions(HubOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Revision = other.Revision;
        CacheDir = other.CacheDir;
        LocalFilesOnly = other.LocalFilesOnly;
        Token = other.Token;
        Endpoint = other.Endpoint;
        ForceDownload = other.ForceDownload;
        RepoType = other.RepoType;
        Environment = other.Environment;
        ShowProgress = other.ShowProgress;
        ProgressWriter = other.ProgressWriter;
        MaxRetries = other.MaxRetries;
        RetryDelay = other.RetryDelay;
        MetadataTimeout = other.MetadataTimeout;
        ReadTimeout = other.ReadTimeout;
    }

    /// <summary>A branch, a tag or a full 40-character commit hash; default "main".</summary>
    public string? Revision { get; init; }

    /// <summary>The hub cache folder; default <see cref="HubEnvironment.HubCache"/>.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Use only what is cached; never touch the network (like HF_HUB_OFFLINE=1 for this call).</summary>
    public bool LocalFilesOnly { get; init; }

    /// <summary>Bearer token; default <see cref="HubEnvironment.Token"/> (HF_TOKEN or the token file).</summary>
    public string? Token { get; init; }

    /// <summary>Hub endpoint such as https://huggingface.co; default <see cref="HubEnvironment.Endpoint"/>.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Download again even when the cache has the file.</summary>
    public bool ForceDownload { get; init; }

    public HubRepoType RepoType { get; init; } = HubRepoType.Model;

    /// <summary>Where the environment variables are read; tests pass their own.</summary>
    public HubEnvironment Environment { get; init; } = HubEnvironment.Process;

    /// <summary>
    /// Show a download progress bar; default on unless HF_HUB_DISABLE_PROGRESS_BARS is set.
    /// Files already cached never show one.
    /// </summary>
    public bool? ShowProgress { get; init; }

    /// <summary>Where the progress bar is drawn; default standard error.</summary>
    public TextWriter? ProgressWriter { get; init; }

    /// <summary>How often a download that broke off mid-transfer is resumed (with a Range request) before giving up.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Pause before each resume attempt.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of the metadata (HEAD / API) requests; default HF_HUB_ETAG_TIMEOUT or 10 s.</summary>
    public TimeSpan? MetadataTimeout { get; init; }

    /// <summary>Longest wait for the next bytes of a download; default HF_HUB_DOWNLOAD_TIMEOUT or 10 s.</summary>
    public TimeSpan? ReadTimeout { get; init; }

    internal string EffectiveRevision => string.IsNullOrEmpty(Revision) ? "main" : Revision;

    internal string EffectiveCacheDir => Path.GetFullPath(string.IsNullOrEmpty(CacheDir) ? Environment.HubCache : CacheDir);

    internal string EffectiveEndpoint => (string.IsNullOrEmpty(Endpoint) ? Environment.Endpoint : Endpoint).TrimEnd('/');

    internal bool IsOffline => LocalFilesOnly || Environment.Offline;

    internal string? EffectiveToken =>
        !string.IsNullOrEmpty(Token) ? Token : Environment.ImplicitTokenDisabled ? null : Environment.Token;

    internal bool EffectiveShowProgress => Environment.ProgressBarsDisabled switch
    {
        true => false,
        _ => ShowProgress ?? true,
    };

    internal TimeSpan EffectiveMetadataTimeout => MetadataTimeout ?? SecondsFromEnvironment("HF_HUB_ETAG_TIMEOUT");

    internal TimeSpan EffectiveReadTimeout => ReadTimeout ?? SecondsFromEnvironment("HF_HUB_DOWNLOAD_TIMEOUT");

    /// <summary>A copy with another revision (snapshot downloads pin every file to the resolved commit).</summary>
    public HubOptions WithRevision(string? revision) => Copy(revision: revision, setRevision: true);

    internal HubOptions Copy(string? revision = null, bool setRevision = false, bool? showProgress = null) => new(this)
    {
        Revision = setRevision ? revision : Revision,
        ShowProgress = showProgress ?? ShowProgress,
    };

    private TimeSpan SecondsFromEnvironment(string name) =>
        int.TryParse(Environment[name], out int seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(10);
}

/// <summary>Options of a whole-repository download (<c>snapshot_download</c>).</summary>
public sealed class SnapshotDownloadOptions
{
    /// <summary>The per-file options (revision, cache, token, endpoint, offline).</summary>
    public HubOptions Hub { get; init; } = new();

    /// <summary>Only files matching at least one of these fnmatch patterns ("*.json", "onnx/*"); all when null or empty.</summary>
    public IReadOnlyList<string>? AllowPatterns { get; init; }

    /// <summary>Files matching any of these patterns are skipped.</summary>
    public IReadOnlyList<string>? IgnorePatterns { get; init; }

    /// <summary>Files downloaded at the same time.</summary>
    public int MaxWorkers { get; init; } = 8;
}
