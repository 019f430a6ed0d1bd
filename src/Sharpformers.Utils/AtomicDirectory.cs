namespace Sharpformers.Utils;

/// <summary>
/// Creates a whole folder (a checkpoint, a saved model) atomically: everything is written into a
/// temporary sibling folder, which is renamed to the final name only once complete. A reader never
/// sees a half-written folder; a killed run leaves the previous folder (if any) untouched.
/// </summary>
public static class AtomicDirectory
{
    /// <summary>
    /// Calls <paramref name="fill"/> with an empty temporary folder, then moves it to
    /// <paramref name="path"/>, replacing an existing folder of that name.
    /// </summary>
    public static void Create(string path, Action<string> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        string fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        string parent = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(fullPath);
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            if (Directory.Exists(fullPath))
            {
                // Two renames: the old folder is set aside first so the final name is never half-populated.
                string old = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
                Directory.Move(fullPath, old);
                Directory.Move(temp, fullPath);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, fullPath);
            }
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
            throw;
        }
    }
}
