using Sharpformers.Utils;

namespace Sharpformers.Hub;

/// <summary>
/// Where a model's weights are on disk. <see cref="Path"/> is the single weight file or the index of a
/// sharded checkpoint; <see cref="ShardPaths"/> lists the shards (already resolved/downloaded, next to
/// the index), empty when not sharded.
/// </summary>
public sealed record ResolvedCheckpoint(CheckpointFormat Format, string Path, IReadOnlyList<string> ShardPaths)
{
    public bool IsSharded => ShardPaths.Count > 0;
}

/// <summary>
/// The seam every <c>FromPretrained</c> calls: turns "a folder or a Hub repo id" plus a file name into a
/// local path, like transformers' <c>cached_file</c>. An existing folder is used as is; anything else is
/// taken as a repo id only when it has a repo id's shape ("name" or "org/name"), and goes through the
/// Hugging Face cache (downloading when needed online; cache only offline). Every file handed out has
/// been checked not to be a Git LFS pointer. Independent of tokenizers and models.
/// </summary>
public static class PretrainedFiles
{
    /// <summary>
    /// The local path of <paramref name="fileName"/> for a model folder or a repo id. For an
    /// <paramref name="optional"/> file that the folder or repository does not have (or, offline,
    /// that the cache does not have) returns null; a required one throws a message saying what is
    /// missing and what to do. A Git LFS pointer in place of the file is reported as such.
    /// </summary>
    public static string? Resolve(string pathOrRepoId, string fileName, HubOptions? options = null, bool optional = false) =>
        RunSync(ct => ResolveAsync(pathOrRepoId, fileName, options, optional, ct));

    /// <inheritdoc cref="Resolve"/>
    public static async Task<string?> ResolveAsync(
        string pathOrRepoId, string fileName, HubOptions? options = null, bool optional = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrRepoId);
        HubNames.ValidateFileName(fileName);
        options ??= new HubOptions();

        if (Directory.Exists(pathOrRepoId))
        {
            string local = Path.Combine([pathOrRepoId, .. fileName.Split('/')]);
            if (File.Exists(local))
            {
                LfsPointer.ThrowIfPointer(local);
                return local;
            }
            if (optional) return null;
            throw new FileNotFoundException($"The model folder '{pathOrRepoId}' has no file named '{fileName}'.", local);
        }
        string repoId = AsRepoId(pathOrRepoId);

        if (optional)
        {
            // A file the cache knows to be absent at this commit needs no request (transformers' _CACHED_NO_EXIST).
            var cached = new HubCache(options.EffectiveCacheDir).TryGetFile(repoId, fileName, options.EffectiveRevision, options.RepoType);
            if (cached.Status == CachedFileStatus.KnownMissing) return null;
            if (options.IsOffline && cached.Status == CachedFileStatus.NotCached) return null;
        }
        else if (options.IsOffline)
        {
            var cached = new HubCache(options.EffectiveCacheDir).TryGetFile(repoId, fileName, options.EffectiveRevision, options.RepoType);
            if (cached.Status == CachedFileStatus.KnownMissing)
            {
                throw new FileNotFoundException(
                    $"Repository '{repoId}' has no file '{fileName}' at revision '{options.EffectiveRevision}' (commit {cached.CommitHash}, " +
                    "as recorded in the cache).", fileName);
            }
        }

        try
        {
            string path = await HubClient.Shared.DownloadFileAsync(repoId, fileName, options, cancellationToken).ConfigureAwait(false);
            LfsPointer.ThrowIfPointer(path);
            return path;
        }
        catch (EntryNotFoundException) when (optional)
        {
            return null;
        }
        catch (LocalEntryNotFoundException) when (optional)
        {
            // transformers returns None for an optional file it can neither download nor find cached.
            return null;
        }
        catch (LocalEntryNotFoundException e)
        {
            throw new LocalEntryNotFoundException(NotAFolder(pathOrRepoId) + e.Message, e.FileName, e);
        }
        catch (RepositoryNotFoundException e)
        {
            throw new RepositoryNotFoundException(NotAFolder(pathOrRepoId) + e.Message, e.StatusCode ?? System.Net.HttpStatusCode.NotFound,
                e.Url, e.ErrorCode, e.ServerMessage, e);
        }
    }

    /// <summary>
    /// The folder that holds whichever of <paramref name="fileNames"/> the model has (what a tokenizer
    /// reads): an existing folder as is, or for a repo id the cache snapshot into which every one of those
    /// files the repository has was downloaded (absent ones are simply not there). Each file present is
    /// checked not to be a Git LFS pointer. Throws when the repository has none of them.
    /// </summary>
    public static string ResolveFolder(string pathOrRepoId, IReadOnlyList<string> fileNames, HubOptions? options = null) =>
        RunSync(ct => ResolveFolderAsync(pathOrRepoId, fileNames, options, ct));

    /// <inheritdoc cref="ResolveFolder"/>
    public static async Task<string> ResolveFolderAsync(
        string pathOrRepoId, IReadOnlyList<string> fileNames, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrRepoId);
        ArgumentNullException.ThrowIfNull(fileNames);
        options ??= new HubOptions();
        if (Directory.Exists(pathOrRepoId))
        {
            foreach (string name in fileNames)
            {
                string local = Path.Combine([pathOrRepoId, .. name.Split('/')]);
                if (File.Exists(local)) LfsPointer.ThrowIfPointer(local);
            }
            return Path.GetFullPath(pathOrRepoId);
        }
        string repoId = AsRepoId(pathOrRepoId);
        string? folder = null;
        foreach (string name in fileNames)
        {
            string? path = await ResolveAsync(repoId, name, options, optional: true, cancellationToken).ConfigureAwait(false);
            // A file in a sub-folder says nothing about the snapshot root.
            if (path is null || name.Contains('/')) continue;
            string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (folder is not null && folder != directory)
            {
                throw new IOException(
                    $"The files of '{repoId}' (revision '{options.EffectiveRevision}') came from two commits ({folder} and {directory}): " +
                    "the revision moved while they were downloaded. Try again, or pin Revision to a commit hash.");
            }
            folder = directory;
        }
        if (folder is not null) return folder;
        string looked = string.Join(", ", fileNames);
        if (options.IsOffline)
        {
            throw new LocalEntryNotFoundException(
                $"{NotAFolder(pathOrRepoId)}none of its files ({looked}) is in the cache {options.EffectiveCacheDir} for revision " +
                $"'{options.EffectiveRevision}', and {(options.LocalFilesOnly ? "LocalFilesOnly is set" : "offline mode (HF_HUB_OFFLINE=1) is on")}, " +
                $"so the Hub was not asked. Download it once while online (`sharpformers download {repoId}`).");
        }
        throw new FileNotFoundException($"Repository '{repoId}' (revision '{options.EffectiveRevision}') has none of the files looked for: {looked}.");
    }

    /// <summary>
    /// The model's weights with Hugging Face's preference (<see cref="CheckpointNames.Preference"/>):
    /// model.safetensors, then the sharded model.safetensors.index.json, then pytorch_model.bin, then
    /// pytorch_model.bin.index.json. Shards of a sharded checkpoint are resolved (downloaded) too.
    /// </summary>
    public static ResolvedCheckpoint ResolveCheckpoint(string pathOrRepoId, HubOptions? options = null) =>
        RunSync(ct => ResolveCheckpointAsync(pathOrRepoId, options, ct));

    /// <inheritdoc cref="ResolveCheckpoint"/>
    public static async Task<ResolvedCheckpoint> ResolveCheckpointAsync(string pathOrRepoId, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubOptions();
        foreach (var candidate in CheckpointNames.Preference)
        {
            string? path = await ResolveAsync(pathOrRepoId, candidate.Name, options, optional: true, cancellationToken).ConfigureAwait(false);
            if (path is null) continue;
            if (!candidate.IsShardIndex) return new ResolvedCheckpoint(candidate.Format, path, []);
            var index = ShardedCheckpointIndex.Read(path);
            var shards = new List<string>();
            foreach (string shard in index.ShardNames)
            {
                shards.Add(await ResolveShardAsync(pathOrRepoId, path, shard, options, cancellationToken).ConfigureAwait(false));
            }
            return new ResolvedCheckpoint(candidate.Format, path, shards);
        }
        bool local = Directory.Exists(pathOrRepoId);
        string where = local ? $"The model folder '{pathOrRepoId}'" : $"Repository '{pathOrRepoId}' (revision '{options.EffectiveRevision}')";
        string offline = !local && options.IsOffline ? " in the local cache (offline mode is on)" : "";
        throw new FileNotFoundException($"{where} has no model weights{offline}: looked for {CheckpointNames.PreferenceText}.");
    }

    /// <summary><c>snapshot_download</c> through the shared client; returns the snapshot folder.</summary>
    public static string SnapshotDownload(string repoId, SnapshotDownloadOptions? options = null) =>
        RunSync(ct => HubClient.Shared.SnapshotDownloadAsync(repoId, options, ct));

    /// <summary>A shard next to its index: on disk for a folder, downloaded into the same snapshot for a repo id.</summary>
    private static async Task<string> ResolveShardAsync(string pathOrRepoId, string indexPath, string shard, HubOptions options, CancellationToken cancellationToken)
    {
        if (Directory.Exists(pathOrRepoId))
        {
            string local = Path.Combine(Path.GetDirectoryName(indexPath)!, shard);
            if (!File.Exists(local)) throw new FileNotFoundException(ShardedCheckpointIndex.MissingShardMessage(indexPath, shard, local), local);
            LfsPointer.ThrowIfPointer(local);
            return local;
        }
        try
        {
            return (await ResolveAsync(pathOrRepoId, shard, options, optional: false, cancellationToken).ConfigureAwait(false))!;
        }
        catch (EntryNotFoundException e)
        {
            throw new FileNotFoundException(
                $"The sharded checkpoint index '{indexPath}' lists the shard '{shard}', but repository '{pathOrRepoId}' has no such file at revision " +
                $"'{options.EffectiveRevision}': the repository is incomplete.", shard, e);
        }
    }

    /// <summary>
    /// The repo id a non-folder argument names. HF's rule: only a string with a repo id's shape is looked
    /// up on the Hub; a path-like string that is not a folder (or a file) gets an error saying it was
    /// tried as both, instead of a confusing Hub lookup.
    /// </summary>
    private static string AsRepoId(string pathOrRepoId)
    {
        if (File.Exists(pathOrRepoId))
        {
            throw new ArgumentException(
                $"'{pathOrRepoId}' is a file; expected the folder that holds the model's files (config.json, weights, tokenizer files), or a Hub repo id ('org/name').");
        }
        if (HubNames.IsValidRepoId(pathOrRepoId) && !pathOrRepoId.StartsWith('.')) return pathOrRepoId;
        throw new DirectoryNotFoundException(
            $"'{pathOrRepoId}' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). " +
            "Check the path, or give the repository's id.");
    }

    /// <summary>The start of every error about a repo id, so a mistyped folder is recognisable as one.</summary>
    private static string NotAFolder(string pathOrRepoId) => $"'{pathOrRepoId}' is not a folder on disk, so it was taken as a Hub repo id: ";

    private static T RunSync<T>(Func<CancellationToken, Task<T>> work) =>
        // Task.Run keeps a caller's synchronization context out of the awaits (no deadlock from sync callers).
        Task.Run(() => work(CancellationToken.None)).GetAwaiter().GetResult();
}
