using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Hub;

/// <summary>What a HEAD on a resolve URL tells about a file (huggingface_hub's HfFileMetadata).</summary>
/// <param name="CommitHash">The commit the revision resolved to (X-Repo-Commit).</param>
/// <param name="Etag">The blob's name in the cache: git sha1 for small files, sha256 for LFS files (X-Linked-Etag, else ETag).</param>
/// <param name="Location">Where to download it: the resolve URL, or the CDN URL an LFS file redirects to.</param>
/// <param name="Size">The file's size (X-Linked-Size, else Content-Length).</param>
public sealed record HubFileMetadata(string CommitHash, string Etag, string Location, long Size);

/// <summary>The parts of <c>GET /api/models/{repo_id}/revision/{revision}</c> a snapshot download needs.</summary>
public sealed record HubRepoInfo(string Id, string Sha, IReadOnlyList<string> Files);

/// <summary>
/// A Hugging Face Hub client with huggingface_hub's download semantics: <see cref="DownloadFileAsync"/>
/// is <c>hf_hub_download</c> and <see cref="SnapshotDownloadAsync"/> is <c>snapshot_download</c>, writing
/// the same cache. Thread-safe and safe across processes (downloads of one blob are serialised by a
/// file lock).
/// </summary>
public sealed class HubClient
{
    public static HubClient Shared { get; } = new();

    /// <summary>HEAD {endpoint}/{repo_id}/resolve/{revision}/{filename}: commit, ETag, location and size.</summary>
    public async Task<HubFileMetadata> GetFileMetadataAsync(string repoId, string fileName, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubOptions();
        Validate(repoId, fileName, options.EffectiveRevision);
        ThrowIfOffline(options, $"the metadata of '{fileName}' in '{repoId}'");
        return await HeadAsync(repoId, fileName, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET {endpoint}/api/models/{repo_id}/revision/{revision}: the commit and the list of files.</summary>
    public async Task<HubRepoInfo> GetRepoInfoAsync(string repoId, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubOptions();
        HubNames.ValidateRepoId(repoId);
        HubNames.ValidateRevision(options.EffectiveRevision);
        ThrowIfOffline(options, $"the file list of '{repoId}'");
        string endpoint = options.EffectiveEndpoint;
        string revision = options.EffectiveRevision;
        string url = HubHttp.RepoInfoUrl(endpoint, options.RepoType, repoId, revision);
        string? token = options.EffectiveToken;
        var context = new HubRequestContext(repoId, revision, null, endpoint, token is not null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveMetadataTimeout);
        using var response = await HubHttp.SendFollowingRelativeRedirectsAsync(
            u => HubHttp.NewRequest(HttpMethod.Get, u, token), url, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        HubHttp.RaiseForStatus(response, url, context);
        string json = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        return ParseRepoInfo(json, url);
    }

    /// <summary>
    /// <c>hf_hub_download</c>: the path of the file in the cache's snapshot folder, downloading it when
    /// needed. Online, one HEAD request checks the revision's commit and the file's ETag (none when the
    /// revision is a commit hash already cached); offline (HF_HUB_OFFLINE=1 or LocalFilesOnly) the cache
    /// alone answers.
    /// </summary>
    public async Task<string> DownloadFileAsync(string repoId, string fileName, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubOptions();
        return await DownloadFileAsync(repoId, fileName, options, progress: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>snapshot_download</c>: every file of the revision (filtered by the patterns) in the cache;
    /// returns snapshots/&lt;commit&gt;. Offline it returns the cached snapshot folder of the revision.
    /// </summary>
    public async Task<string> SnapshotDownloadAsync(string repoId, SnapshotDownloadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SnapshotDownloadOptions();
        var hub = options.Hub;
        HubNames.ValidateRepoId(repoId);
        string revision = hub.EffectiveRevision;
        HubNames.ValidateRevision(revision);
        var cache = new HubCache(hub.EffectiveCacheDir);
        string storage = cache.StorageFolder(repoId, hub.RepoType);

        HubRepoInfo? info = null;
        Exception? apiError = null;
        if (!hub.IsOffline)
        {
            try
            {
                info = await GetRepoInfoAsync(repoId, hub, cancellationToken).ConfigureAwait(false);
            }
            catch (RevisionNotFoundException)
            {
                throw;
            }
            catch (Exception e) when (IsNetworkOrHubFailure(e, cancellationToken))
            {
                apiError = e;
            }
        }

        if (info is null)
        {
            string? commit = HubCache.ResolveCommit(storage, revision);
            if (commit is not null && Directory.Exists(HubCache.SnapshotFolder(storage, commit))) return HubCache.SnapshotFolder(storage, commit);
            throw SnapshotNotCached(repoId, revision, hub, cache, apiError);
        }

        var files = FilePatterns.Filter(info.Files, options.AllowPatterns, options.IgnorePatterns).ToList();
        HubCache.WriteRef(storage, revision, info.Sha);
        string snapshot = HubCache.SnapshotFolder(storage, info.Sha);
        Directory.CreateDirectory(snapshot);
        var pinned = hub.WithRevision(info.Sha);
        using var bar = hub.EffectiveShowProgress ? new AggregateProgress($"Fetching {files.Count} files", hub.ProgressWriter) : null;
        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxWorkers), CancellationToken = cancellationToken },
            async (file, ct) => await DownloadFileAsync(repoId, file, pinned, bar, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return snapshot;
    }

    private async Task<string> DownloadFileAsync(string repoId, string fileName, HubOptions options, IDownloadProgress? progress, CancellationToken cancellationToken)
    {
        string revision = options.EffectiveRevision;
        Validate(repoId, fileName, revision);
        var cache = new HubCache(options.EffectiveCacheDir);
        string storage = cache.StorageFolder(repoId, options.RepoType);

        // A commit hash already in the cache needs no request at all.
        if (HubNames.IsCommitHash(revision) && !options.ForceDownload)
        {
            string pinned = HubCache.PointerPath(storage, revision, fileName);
            if (File.Exists(pinned)) return pinned;
        }

        HubFileMetadata? metadata = null;
        Exception? headError = null;
        if (!options.IsOffline)
        {
            try
            {
                metadata = await HeadAsync(repoId, fileName, options, cancellationToken).ConfigureAwait(false);
            }
            catch (EntryNotFoundException e)
            {
                if (e.CommitHash is { } missingAt && IsSafeName(missingAt))
                {
                    HubCache.TouchNoExist(storage, missingAt, fileName);
                    HubCache.WriteRef(storage, revision, missingAt);
                }
                throw;
            }
            catch (RevisionNotFoundException)
            {
                throw;
            }
            catch (Exception e) when (IsNetworkOrHubFailure(e, cancellationToken))
            {
                headError = e;
            }
        }

        if (metadata is null)
        {
            // No answer from the Hub: the cache decides (refs/<revision> → snapshots/<commit>/<file>).
            if (!options.ForceDownload)
            {
                var cached = cache.TryGetFile(repoId, fileName, revision, options.RepoType);
                if (cached.Status == CachedFileStatus.Found) return cached.Path!;
                throw FileNotCached(repoId, fileName, revision, options, cached, headError);
            }
            throw new InvalidOperationException(
                $"Cannot force the download of '{fileName}' from '{repoId}': " +
                (headError is null ? "offline mode is on." : $"the Hub could not be reached ({headError.Message})."), headError);
        }

        string blobPath = HubCache.BlobPath(storage, metadata.Etag);
        string pointerPath = HubCache.PointerPath(storage, metadata.CommitHash, fileName);
        Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(pointerPath)!);
        HubCache.WriteRef(storage, revision, metadata.CommitHash);

        if (!options.ForceDownload)
        {
            if (File.Exists(pointerPath)) return pointerPath;
            if (File.Exists(blobPath))
            {
                HubCache.LinkSnapshotFile(blobPath, pointerPath);
                return pointerPath;
            }
        }

        string lockPath = cache.LockPath(repoId, options.RepoType, metadata.Etag);
        var writer = options.ProgressWriter ?? Console.Error;
        using (await HubFileLock.AcquireAsync(lockPath, message => writer.WriteLine(message), cancellationToken).ConfigureAwait(false))
        {
            // Another process may have finished this blob while we waited for the lock.
            if (options.ForceDownload || !File.Exists(blobPath))
            {
                string? token = options.EffectiveToken;
                string resolveUrl = HubHttp.ResolveUrl(options.EffectiveEndpoint, options.RepoType, repoId, revision, fileName);
                if (!SameOrigin(resolveUrl, metadata.Location)) token = null;
                var request = new BlobRequest(
                    metadata.Location, token, blobPath + ".incomplete", blobPath, metadata.Size,
                    HubNames.IsSha256(metadata.Etag) ? metadata.Etag : null, repoId, fileName,
                    new HubRequestContext(repoId, revision, fileName, options.EffectiveEndpoint, token is not null));
                using var ownBar = progress is null && options.EffectiveShowProgress ? new AggregateProgress(Shorten(fileName), options.ProgressWriter) : null;
                await BlobDownloader.DownloadAsync(request, options, progress ?? ownBar, cancellationToken).ConfigureAwait(false);
            }
            HubCache.LinkSnapshotFile(blobPath, pointerPath);
        }
        return pointerPath;
    }

    private static async Task<HubFileMetadata> HeadAsync(string repoId, string fileName, HubOptions options, CancellationToken cancellationToken)
    {
        string endpoint = options.EffectiveEndpoint;
        string revision = options.EffectiveRevision;
        string url = HubHttp.ResolveUrl(endpoint, options.RepoType, repoId, revision, fileName);
        string? token = options.EffectiveToken;
        var context = new HubRequestContext(repoId, revision, fileName, endpoint, token is not null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveMetadataTimeout);
        using var response = await HubHttp.SendFollowingRelativeRedirectsAsync(
            u =>
            {
                var request = HubHttp.NewRequest(HttpMethod.Head, u, token);
                // The real size, never a compressed one.
                request.Headers.TryAddWithoutValidation("Accept-Encoding", "identity");
                return request;
            },
            url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        HubHttp.RaiseForStatus(response, url, context);

        string? commit = HubHttp.GetHeader(response, HubHttp.RepoCommitHeader);
        if (string.IsNullOrEmpty(commit))
        {
            throw new HubMetadataException(
                $"{url} answered without an X-Repo-Commit header, so it does not look like a Hugging Face Hub " +
                "(check HF_ENDPOINT, and any proxy or firewall between you and the Hub).");
        }
        string? etag = HubHttp.NormalizeEtag(HubHttp.GetHeader(response, HubHttp.LinkedEtagHeader) ?? HubHttp.GetHeader(response, "ETag"));
        if (string.IsNullOrEmpty(etag))
        {
            throw new HubMetadataException($"{url} answered without an ETag, so the file cannot be cached reliably.");
        }
        if (!IsSafeName(etag) || !IsSafeName(commit))
        {
            throw new HubMetadataException($"{url} answered with an ETag '{etag}' or commit '{commit}' that is not a plain hex name.");
        }
        string? sizeText = HubHttp.GetHeader(response, HubHttp.LinkedSizeHeader) ?? HubHttp.GetHeader(response, "Content-Length");
        if (!long.TryParse(sizeText, out long size) || size < 0)
        {
            throw new HubMetadataException($"{url} answered without a valid X-Linked-Size or Content-Length ('{sizeText}').");
        }
        string location = url;
        int status = (int)response.StatusCode;
        if (status is >= 300 and <= 399 && HubHttp.GetHeader(response, "Location") is { } redirect) location = redirect;
        else if (response.RequestMessage?.RequestUri is { } finalUri) location = finalUri.AbsoluteUri;
        return new HubFileMetadata(commit, etag, location, size);
    }

    private static HubRepoInfo ParseRepoInfo(string json, string url)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : "";
            if (!root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String || !IsSafeName(sha.GetString()!))
            {
                throw new InvalidDataException($"The repo info from {url} has no valid \"sha\" (the commit hash).");
            }
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"The repo info from {url} has no \"siblings\" list (the files).");
            }
            var files = new List<string>();
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (!sibling.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"The repo info from {url} has a sibling without \"rfilename\".");
                }
                string file = name.GetString()!;
                HubNames.ValidateFileName(file);
                files.Add(file);
            }
            return new HubRepoInfo(id, sha.GetString()!, files);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The repo info from {url} is not valid JSON: {e.Message}", e);
        }
    }

    private static void Validate(string repoId, string fileName, string revision)
    {
        HubNames.ValidateRepoId(repoId);
        HubNames.ValidateFileName(fileName);
        HubNames.ValidateRevision(revision);
    }

    private static void ThrowIfOffline(HubOptions options, string what)
    {
        if (options.IsOffline)
        {
            throw new InvalidOperationException($"Cannot fetch {what}: {OfflineReason(options)} is on, so the network is not used.");
        }
    }

    private static string OfflineReason(HubOptions options) => options.LocalFilesOnly ? "LocalFilesOnly" : "offline mode (HF_HUB_OFFLINE=1)";

    /// <summary>Failures after which the cache may still answer (huggingface_hub's fallback list).</summary>
    private static bool IsNetworkOrHubFailure(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HubMetadataException => true,
        HttpRequestException => true,
        IOException => true,
        _ => false,
    };

    private static LocalEntryNotFoundException FileNotCached(string repoId, string fileName, string revision, HubOptions options, CachedFile cached, Exception? headError)
    {
        string cacheDir = options.EffectiveCacheDir;
        if (headError is null)
        {
            string how = options.LocalFilesOnly
                ? "set LocalFilesOnly to false (or drop --local-files-only)"
                : "unset HF_HUB_OFFLINE";
            return new LocalEntryNotFoundException(
                $"'{fileName}' of '{repoId}' (revision '{revision}') is not in the cache {cacheDir} ({cached.Reason}), and {OfflineReason(options)} " +
                $"is on, so it was not downloaded. Download it once while online (`sharpformers download {repoId}`) or {how}.",
                fileName);
        }
        if (headError is RepositoryNotFoundException or GatedRepoException) return Rethrow(headError);
        return new LocalEntryNotFoundException(
            $"Could not reach the Hub for '{fileName}' of '{repoId}' (revision '{revision}'): {headError.Message} " +
            $"It is not in the cache {cacheDir} either ({cached.Reason}). Check your connection and HF_ENDPOINT, or load the model from a folder on disk.",
            fileName, headError);
    }

    private static LocalEntryNotFoundException SnapshotNotCached(string repoId, string revision, HubOptions options, HubCache cache, Exception? apiError)
    {
        string storage = cache.StorageFolder(repoId, options.RepoType);
        if (apiError is null)
        {
            string how = options.LocalFilesOnly ? "set LocalFilesOnly to false" : "unset HF_HUB_OFFLINE";
            return new LocalEntryNotFoundException(
                $"No snapshot of '{repoId}' for revision '{revision}' is in the cache {cache.Root} (looked in {storage}), and " +
                $"{OfflineReason(options)} is on. Download it once while online (`sharpformers download {repoId}`) or {how}.");
        }
        if (apiError is RepositoryNotFoundException or GatedRepoException) return Rethrow(apiError);
        return new LocalEntryNotFoundException(
            $"Could not reach the Hub for '{repoId}' (revision '{revision}'): {apiError.Message} No snapshot of it is in the cache " +
            $"{cache.Root} either. Check your connection and HF_ENDPOINT, or load the model from a folder on disk.",
            null, apiError);
    }

    private static LocalEntryNotFoundException Rethrow(Exception e)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        throw e;
    }

    private static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && name is not "." and not "..";

    private static bool SameOrigin(string a, string b)
    {
        var ua = new Uri(a);
        return Uri.TryCreate(b, UriKind.Absolute, out var ub)
            && string.Equals(ua.Host, ub.Host, StringComparison.OrdinalIgnoreCase) && ua.Port == ub.Port && ua.Scheme == ub.Scheme;
    }

    private static string Shorten(string fileName) => fileName.Length > 40 ? "(…)" + fileName[^40..] : fileName;

    /// <summary>A byte progress bar whose total grows as files announce their sizes.</summary>
    private sealed class AggregateProgress(string description, TextWriter? writer) : IDownloadProgress, IDisposable
    {
        private readonly ProgressBar bar = new(description, 0, "B", writer);
        private long total;

        public void AddTotal(long bytes) => bar.SetTotal(Interlocked.Add(ref total, bytes));

        public void Advance(long bytes) => bar.Advance(bytes);

        public void Dispose()
        {
            if (Interlocked.Read(ref total) > 0) bar.Finish();
        }
    }
}

/// <summary>The Hub's answer lacks what a download needs (commit, ETag, size): probably not a Hub, or a proxy in the way.</summary>
public sealed class HubMetadataException(string message) : HttpRequestException(message);
