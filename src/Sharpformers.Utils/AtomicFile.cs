namespace Sharpformers.Utils;

/// <summary>
/// Writes that either happen completely or not at all: content goes to a temporary file beside the
/// target, is flushed to disk, and is then renamed over the target (rename is atomic on one file
/// system). A run killed mid-write leaves the previous file intact and, at worst, a stray temp file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes whatever <paramref name="write"/> puts into the stream to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(directory);
        string temp = TempPathBeside(fullPath);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        Write(path, s => s.Write(utf8));
    }

    /// <summary>A unique temporary name in the same folder (so the final rename never crosses file systems).</summary>
    public static string TempPathBeside(string path)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        return Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temp file is garbage either way and does not affect the target.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
