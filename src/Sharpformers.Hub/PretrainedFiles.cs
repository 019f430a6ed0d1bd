using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Hub;

/// <summary>The weight files of a model, in the order Hugging Face prefers them.</summary>
public enum CheckpointFormat
{
    /// <summary>model.safetensors, or its sharded index model.safetensors.index.json.</summary>
    Safetensors,

    /// <summary>pytorch_model.bin, or its sharded index pytorch_model.bin.index.json.</summary>
    PyTorch,
}

/// <summary>
/// Where a model's weights are on disk. <see cref="Path"/> is the single weight file or the index of a
/// sharded checkpoint; <see cref="ShardPaths"/> lists the shards (already resolved/downloaded), empty
/// when not sharded.
/// </summary>
public sealed record CheckpointFiles(CheckpointFormat Format, string Path, IReadOnlyList<string> ShardPaths)
{
    public bool IsSharded => ShardPaths.Count > 0;
}

/// <summary>
/// The seam <c>FromPretrained</c> calls: turns "a folder or a Hub repo id" plus a file name into a
/// local path, exactly like transformers' <c>cached_file</c>. A folder on disk is used as is; a repo id
/// goes through the Hugging Face cache (downloading when needed online; cache only offline).
/// Independent of tokenizers and models.
/// </summary>
public static class PretrainedFiles
{
    public const string SafetensorsWeights = "model.safetensors";
    public const string SafetensorsIndex = "model.safetensors.index.json";
    public const string PyTorchWeights = "pytorch_model.bin";
    public const string PyTorchIndex = "pytorch_model.bin.index.json";

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
    }

    /// <summary>
    /// The model's weights with Hugging Face's preference: model.safetensors, then the sharded
    /// model.safetensors.index.json, then pytorch_model.bin, then pytorch_model.bin.index.json.
    /// Shards of a sharded checkpoint are resolved (downloaded) too.
    /// </summary>
    public static CheckpointFiles ResolveCheckpoint(string pathOrRepoId, HubOptions? options = null) =>
        RunSync(ct => ResolveCheckpointAsync(pathOrRepoId, options, ct));

    /// <inheritdoc cref="ResolveCheckpoint"/>
    public static async Task<CheckpointFiles> ResolveCheckpointAsync(string pathOrRepoId, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubOptions();
        (string Name, CheckpointFormat Format, bool Sharded)[] candidates =
        [
            (SafetensorsWeights, CheckpointFormat.Safetensors, false),
            (SafetensorsIndex, CheckpointFormat.Safetensors, true),
            (PyTorchWeights, CheckpointFormat.PyTorch, false),
            (PyTorchIndex, CheckpointFormat.PyTorch, true),
        ];
        foreach (var (name, format, sharded) in candidates)
        {
            string? path = await ResolveAsync(pathOrRepoId, name, options, optional: true, cancellationToken).ConfigureAwait(false);
            if (path is null) continue;
            if (!sharded) return new CheckpointFiles(format, path, []);
            var shards = new List<string>();
            foreach (string shard in ReadShardNames(path))
            {
                string? shardPath = await ResolveAsync(pathOrRepoId, SiblingName(name, shard), options, optional: true, cancellationToken).ConfigureAwait(false);
                shards.Add(shardPath ?? throw new FileNotFoundException(
                    $"The sharded checkpoint index '{path}' lists the shard '{shard}', which '{pathOrRepoId}' does not have.", shard));
            }
            return new CheckpointFiles(format, path, shards);
        }
        string where = Directory.Exists(pathOrRepoId) ? $"The model folder '{pathOrRepoId}'" : $"Repository '{pathOrRepoId}' (revision '{options.EffectiveRevision}')";
        string offline = !Directory.Exists(pathOrRepoId) && options.IsOffline ? " in the local cache (offline mode is on)" : "";
        throw new FileNotFoundException(
            $"{where} has no model weights{offline}: looked for {SafetensorsWeights}, {SafetensorsIndex}, {PyTorchWeights} and {PyTorchIndex}.");
    }

    /// <summary><c>snapshot_download</c> through the shared client; returns the snapshot folder.</summary>
    public static string SnapshotDownload(string repoId, SnapshotDownloadOptions? options = null) =>
        RunSync(ct => HubClient.Shared.SnapshotDownloadAsync(repoId, options, ct));

    /// <summary>
    /// The distinct shard file names of a sharded checkpoint index (its "weight_map" values), in
    /// first-seen order. Shard names must be plain file names next to the index.
    /// </summary>
    public static IReadOnlyList<string> ReadShardNames(string indexPath)
    {
        LfsPointer.ThrowIfPointer(indexPath);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{indexPath}' is not a sharded checkpoint index: expected a JSON object with a \"weight_map\" object.");
            }
            var names = new List<string>();
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"'{indexPath}': weight_map[\"{entry.Name}\"] must be a shard file name (a string), got {entry.Value.ValueKind}.");
                }
                string shard = entry.Value.GetString()!;
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard is "." or "..")
                {
                    throw new InvalidDataException($"'{indexPath}': weight_map[\"{entry.Name}\"] = '{shard}' is not a plain file name next to the index.");
                }
                if (!names.Contains(shard)) names.Add(shard);
            }
            return names;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{indexPath}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// The repo id a non-folder argument names; a path-like string that is not a folder gets an
    /// error that says so instead of a confusing Hub lookup.
    /// </summary>
    private static string AsRepoId(string pathOrRepoId)
    {
        if (HubNames.IsValidRepoId(pathOrRepoId) && !pathOrRepoId.StartsWith('.')) return pathOrRepoId;
        throw new DirectoryNotFoundException(
            $"'{pathOrRepoId}' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). " +
            "Check the path, or give the repository's id.");
    }

    /// <summary>A shard lives next to its index: "sub/x.index.json" + "y" = "sub/y".</summary>
    private static string SiblingName(string indexName, string shard)
    {
        int slash = indexName.LastIndexOf('/');
        return slash < 0 ? shard : indexName[..(slash + 1)] + shard;
    }

    private static T RunSync<T>(Func<CancellationToken, Task<T>> work) =>
        // Task.Run keeps a caller's synchronization context out of the awaits (no deadlock from sync callers).
        Task.Run(() => work(CancellationToken.None)).GetAwaiter().GetResult();
}
