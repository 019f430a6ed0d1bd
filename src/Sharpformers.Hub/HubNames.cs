using System.Text.RegularExpressions;

namespace Sharpformers.Hub;

/// <summary>Validation of repo ids, revisions and repo file names (what <c>validate_hf_hub_args</c> checks, plus path safety).</summary>
public static partial class HubNames
{
    /// <summary>A full commit hash: 40 lowercase hex digits (huggingface_hub's REGEX_COMMIT_HASH).</summary>
    public static bool IsCommitHash(string revision) => CommitHashRegex().IsMatch(revision);

    /// <summary>A sha256 hex digest, which is what the Hub uses as the ETag of LFS files.</summary>
    public static bool IsSha256(string etag) => Sha256Regex().IsMatch(etag);

    /// <summary>Whether <paramref name="repoId"/> has the shape of a Hub repo id ("name" or "org/name").</summary>
    public static bool IsValidRepoId(string repoId) =>
        RepoIdRegex().IsMatch(repoId) && !repoId.Contains("--", StringComparison.Ordinal) && !repoId.Contains("..", StringComparison.Ordinal)
        && !repoId.EndsWith(".git", StringComparison.Ordinal);

    /// <summary>Throws an ArgumentException naming the problem when the repo id is malformed.</summary>
    public static void ValidateRepoId(string repoId)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        if (!IsValidRepoId(repoId))
        {
            throw new ArgumentException(
                $"'{repoId}' is not a valid Hub repo id: expected 'name' or 'org/name' made of letters, digits, '-', '_' and '.' " +
                "(at most 96 characters each, no '--' or '..', not ending in '.git').", nameof(repoId));
        }
    }

    /// <summary>
    /// Throws when a repo file name could escape its snapshot folder or is not a plain relative path
    /// ("sub/file.json" is fine; "", "/x", "a/../b", "a\\b" are not).
    /// </summary>
    public static void ValidateFileName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        bool bad = fileName.Length == 0 || fileName.StartsWith('/') || fileName.Contains('\\') || fileName.Contains('\0')
            || fileName.Split('/').Any(part => part is "" or "." or "..");
        if (bad)
        {
            throw new ArgumentException(
                $"'{fileName}' is not a valid file name inside a repository: expected a relative path such as 'config.json' or 'onnx/model.onnx'.",
                nameof(fileName));
        }
    }

    /// <summary>Throws when a revision is empty or could escape the refs folder.</summary>
    public static void ValidateRevision(string revision)
    {
        ArgumentNullException.ThrowIfNull(revision);
        bool bad = revision.Length == 0 || revision.StartsWith('/') || revision.Contains('\\') || revision.Contains('\0')
            || revision.Split('/').Any(part => part is "" or "." or "..");
        if (bad)
        {
            throw new ArgumentException($"'{revision}' is not a valid revision: expected a branch, a tag or a 40-character commit hash.", nameof(revision));
        }
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHashRegex();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Regex();

    [GeneratedRegex(@"^(?:[A-Za-z0-9_.\-]{1,96}/)?[A-Za-z0-9_.\-]{1,96}$")]
    private static partial Regex RepoIdRegex();
}
