using Sharpformers.Utils;

namespace Sharpformers.Hub;

/// <summary>Where a file stands in the local cache.</summary>
public enum CachedFileStatus
{
    /// <summary>The cache has the file for that revision.</summary>
    Found,

    /// <summary>The cache records (<c>.no_exist/&lt;commit&gt;/&lt;file&gt;</c>) that the repository has no such file at that commit.</summary>
    KnownMissing,

    /// <summary>Nothing is known: the repository, the revision or the file is not cached.</summary>
    NotCached,
}

/// <summary>The result of a cache lookup; <see cref="Reason"/> says what was missing, for error messages.</summary>
public sealed record CachedFile(CachedFileStatus Status, string? Path, string? CommitHash, string Reason);

/// <summary>
/// The on-disk cache shared with Python's <c>huggingface_hub</c>, byte for byte the same layout:
/// <code>
/// &lt;cache&gt;/models--org--name/
///     blobs/&lt;etag&gt;                                  file contents, named by git sha1 or LFS sha256
///     refs/main                                      the commit hash "main" resolved to (no newline)
///     snapshots/&lt;commit&gt;/config.json -> ../../blobs/&lt;etag&gt;     relative symlinks
///     .no_exist/&lt;commit&gt;/tokenizer.json            empty marker: the file is absent at that commit
/// &lt;cache&gt;/.locks/models--org--name/&lt;etag&gt;.lock    cross-process download lock (flock)
/// </code>
/// Where symlinks cannot be made (Windows without developer mode) the snapshot entry is a copy.
/// </summary>
public sealed class HubCache
{
    public HubCache(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>The cache folder (HF_HUB_CACHE).</summary>
    public string Root { get; }

    /// <summary>"models--org--name" (huggingface_hub's repo_folder_name).</summary>
    public static string RepoFolderName(string repoId, HubRepoType repoType = HubRepoType.Model) =>
        string.Join("--", [TypePrefix(repoType), .. repoId.Split('/')]);

    /// <summary>The repository's folder in the cache.</summary>
    public string StorageFolder(string repoId, HubRepoType repoType = HubRepoType.Model) =>
        System.IO.Path.Combine(Root, RepoFolderName(repoId, repoType));

    public static string BlobPath(string storageFolder, string etag) => System.IO.Path.Combine(storageFolder, "blobs", etag);

    /// <summary>snapshots/&lt;commit&gt;/&lt;file&gt; with the file's '/' turned into the platform's separator.</summary>
    public static string PointerPath(string storageFolder, string commitHash, string fileName) =>
        System.IO.Path.Combine([storageFolder, "snapshots", commitHash, .. fileName.Split('/')]);

    public static string SnapshotFolder(string storageFolder, string commitHash) => System.IO.Path.Combine(storageFolder, "snapshots", commitHash);

    public static string NoExistPath(string storageFolder, string commitHash, string fileName) =>
        System.IO.Path.Combine([storageFolder, ".no_exist", commitHash, .. fileName.Split('/')]);

    public static string RefPath(string storageFolder, string revision) =>
        System.IO.Path.Combine([storageFolder, "refs", .. revision.Split('/')]);

    /// <summary>.locks/models--org--name/&lt;etag&gt;.lock, the lock huggingface_hub takes around a blob download.</summary>
    public string LockPath(string repoId, HubRepoType repoType, string etag) =>
        System.IO.Path.Combine(Root, ".locks", RepoFolderName(repoId, repoType), etag + ".lock");

    /// <summary>
    /// The commit a revision stands for in the cache: the revision itself when it is a commit hash,
    /// else the content of refs/&lt;revision&gt;; null when unknown.
    /// </summary>
    public static string? ResolveCommit(string storageFolder, string revision)
    {
        if (HubNames.IsCommitHash(revision)) return revision;
        string refPath = RefPath(storageFolder, revision);
        if (!File.Exists(refPath)) return null;
        string commit = File.ReadAllText(refPath).Trim();
        return commit.Length == 0 ? null : commit;
    }

    /// <summary>
    /// huggingface_hub's <c>try_to_load_from_cache</c>: the cached file for a revision, a record that the
    /// file does not exist there, or nothing. Never touches the network.
    /// </summary>
    public CachedFile TryGetFile(string repoId, string fileName, string revision = "main", HubRepoType repoType = HubRepoType.Model)
    {
        string storage = StorageFolder(repoId, repoType);
        if (!Directory.Exists(storage))
        {
            return new CachedFile(CachedFileStatus.NotCached, null, null, $"the cache has nothing for '{repoId}' ({storage} does not exist)");
        }
        string? commit = ResolveCommit(storage, revision);
        if (commit is null)
        {
            return new CachedFile(CachedFileStatus.NotCached, null, null, $"the cache does not know which commit revision '{revision}' is (no {RefPath(storage, revision)})");
        }
        if (File.Exists(NoExistPath(storage, commit, fileName)))
        {
            return new CachedFile(CachedFileStatus.KnownMissing, null, commit, $"the repository has no '{fileName}' at commit {commit}");
        }
        string pointer = PointerPath(storage, commit, fileName);
        if (File.Exists(pointer)) return new CachedFile(CachedFileStatus.Found, pointer, commit, "cached");
        return new CachedFile(CachedFileStatus.NotCached, null, commit, $"'{fileName}' is not in the cached snapshot {SnapshotFolder(storage, commit)}");
    }

    /// <summary>The cached snapshot folder for a revision, or null.</summary>
    public string? TryGetSnapshotFolder(string repoId, string revision = "main", HubRepoType repoType = HubRepoType.Model)
    {
        string storage = StorageFolder(repoId, repoType);
        string? commit = ResolveCommit(storage, revision);
        if (commit is null) return null;
        string folder = SnapshotFolder(storage, commit);
        return Directory.Exists(folder) ? folder : null;
    }

    /// <summary>Records revision → commit in refs/, only when it changed (a read-only cache stays usable).</summary>
    internal static void WriteRef(string storageFolder, string revision, string commitHash)
    {
        if (revision == commitHash) return;
        string refPath = RefPath(storageFolder, revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commitHash) return;
        AtomicFile.WriteAllText(refPath, commitHash);
    }

    /// <summary>Creates the empty .no_exist marker huggingface_hub writes after an EntryNotFound.</summary>
    internal static void TouchNoExist(string storageFolder, string commitHash, string fileName)
    {
        string path = NoExistPath(storageFolder, commitHash, fileName);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (!File.Exists(path)) File.WriteAllBytes(path, []);
    }

    /// <summary>
    /// Makes snapshots/&lt;commit&gt;/&lt;file&gt; point at the blob: a symlink with a relative target
    /// (../../blobs/&lt;etag&gt;, one more ../ per sub-folder), as huggingface_hub's _create_symlink does,
    /// or a copy where symlinks are not allowed.
    /// </summary>
    internal static void LinkSnapshotFile(string blobPath, string pointerPath)
    {
        string folder = System.IO.Path.GetDirectoryName(pointerPath)!;
        Directory.CreateDirectory(folder);
        string relative = System.IO.Path.GetRelativePath(folder, blobPath);
        DeleteIfPresent(pointerPath);
        try
        {
            File.CreateSymbolicLink(pointerPath, relative);
            return;
        }
        catch (IOException) when (PointsAt(pointerPath, blobPath))
        {
            // Another process created the same link between our delete and create.
            return;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or PlatformNotSupportedException or IOException)
        {
            // Symlinks not allowed here (e.g. Windows without developer mode): fall back to a copy.
        }
        string temp = AtomicFile.TempPathBeside(pointerPath);
        File.Copy(blobPath, temp, overwrite: true);
        File.Move(temp, pointerPath, overwrite: true);
    }

    private static bool PointsAt(string linkPath, string blobPath)
    {
        var info = new FileInfo(linkPath);
        if (!info.Exists || info.LinkTarget is null) return false;
        var target = info.ResolveLinkTarget(returnFinalTarget: true);
        return target is not null && System.IO.Path.GetFullPath(target.FullName) == System.IO.Path.GetFullPath(blobPath);
    }

    private static void DeleteIfPresent(string path)
    {
        // File.Exists is false for a dangling symlink, which must be removed too.
        var info = new FileInfo(path);
        if (info.Exists || info.LinkTarget is not null) info.Delete();
    }

    private static string TypePrefix(HubRepoType repoType) => repoType switch
    {
        HubRepoType.Model => "models",
        HubRepoType.Dataset => "datasets",
        HubRepoType.Space => "spaces",
        _ => throw new ArgumentOutOfRangeException(nameof(repoType), repoType, "Unknown repo type."),
    };

    /// <summary>The URL path prefix of a repo type ("" for models, "datasets/", "spaces/").</summary>
    internal static string UrlPrefix(HubRepoType repoType) => repoType switch
    {
        HubRepoType.Model => "",
        HubRepoType.Dataset => "datasets/",
        HubRepoType.Space => "spaces/",
        _ => throw new ArgumentOutOfRangeException(nameof(repoType), repoType, "Unknown repo type."),
    };

    /// <summary>The API path segment ("models", "datasets", "spaces").</summary>
    internal static string ApiSegment(HubRepoType repoType) => TypePrefix(repoType);
}
