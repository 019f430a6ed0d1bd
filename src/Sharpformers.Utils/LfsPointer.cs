using System.Text;

namespace Sharpformers.Utils;

/// <summary>
/// Detects Git LFS pointer files: what a `git clone` of a Hugging Face model repository leaves in
/// place of the weights when Git LFS is not installed. Such a file is ~130 bytes of text
/// (<c>version https://git-lfs.github.com/spec/v1</c>, <c>oid sha256:…</c>, <c>size …</c>); every
/// reader checks for it first so the user is told how to fetch the content instead of seeing a
/// parse error about a "bad zip" or "bad header".
/// </summary>
public static class LfsPointer
{
    /// <summary>Every pointer file starts with these bytes (the spec URL may vary after them).</summary>
    public const string Prefix = "version https://git-lfs";

    /// <summary>The Git LFS spec caps pointer files at 1024 bytes; anything larger is real content.</summary>
    public const int MaxPointerSize = 1024;

    /// <summary>Whether <paramref name="head"/> (the first bytes of a file) starts like a Git LFS pointer.</summary>
    public static bool IsPointer(ReadOnlySpan<byte> head) => head.StartsWith(Encoding.ASCII.GetBytes(Prefix));

    /// <summary>Whether the file at <paramref name="path"/> is a Git LFS pointer file.</summary>
    public static bool IsPointer(string path) => TryRead(path, out _);

    /// <summary>
    /// Reads a pointer file's oid and size. Returns false (and no info) when the file is not a
    /// pointer, including when it is larger than <see cref="MaxPointerSize"/>.
    /// </summary>
    public static bool TryRead(string path, out LfsPointerInfo info)
    {
        info = default;
        if (!File.Exists(path)) return false;
        byte[] bytes;
        // The length comes from the opened file, not FileInfo: through the Hugging Face cache's symlinks
        // FileInfo reports the link's own size, and a multi-gigabyte weights file would be read whole.
        using (var handle = File.OpenHandle(path))
        {
            long length = RandomAccess.GetLength(handle);
            if (length > MaxPointerSize || length < Prefix.Length) return false;
            bytes = new byte[length];
            if (RandomAccess.Read(handle, bytes, 0) != length) return false;
        }
        if (!IsPointer(bytes)) return false;
        string? oid = null;
        long? size = null;
        foreach (string line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            string trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith("oid ", StringComparison.Ordinal)) oid = trimmed[4..].Trim();
            else if (trimmed.StartsWith("size ", StringComparison.Ordinal) && long.TryParse(trimmed[5..].Trim(), out long parsed)) size = parsed;
        }
        info = new LfsPointerInfo(oid, size);
        return true;
    }

    /// <summary>
    /// Throws an <see cref="InvalidDataException"/> that explains how to fetch the real content when
    /// <paramref name="path"/> is a Git LFS pointer file; does nothing otherwise.
    /// </summary>
    public static void ThrowIfPointer(string path)
    {
        if (TryRead(path, out var info)) throw new InvalidDataException(Describe(path, info));
    }

    /// <summary>The message users see for a pointer file (public so every reader words it the same).</summary>
    public static string Describe(string path, LfsPointerInfo info)
    {
        string expected = (info.Oid, info.Size) switch
        {
            ({ } oid, { } size) => $" (the real file is {size} bytes, {oid})",
            ({ } oid, null) => $" (the real file is {oid})",
            (null, { } size) => $" (the real file is {size} bytes)",
            _ => "",
        };
        return $"'{path}' is a Git LFS pointer file, not the file's content{expected}: the repository was cloned " +
               "without Git LFS. Run `git lfs install && git lfs pull` inside the clone, or download the model " +
               "with `sharpformers download REPO_ID` instead of git.";
    }
}

/// <summary>The content a Git LFS pointer stands for: <c>sha256:&lt;hex&gt;</c> and its size in bytes.</summary>
public readonly record struct LfsPointerInfo(string? Oid, long? Size);
