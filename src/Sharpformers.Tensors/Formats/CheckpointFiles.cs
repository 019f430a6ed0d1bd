namespace Sharpformers.Tensors.Formats;

/// <summary>A weights file name that may appear in a model folder and how to open it.</summary>
public sealed record CheckpointFormat(string FileName, Func<string, ICheckpointReader> Open);

/// <summary>
/// Finds and opens the weights of a Hugging Face model folder. Formats are tried in the order
/// <c>from_pretrained</c> prefers them; a new reader (pytorch_model.bin, sharded files) is one more
/// entry in <see cref="Formats"/>.
/// </summary>
public static class CheckpointFiles
{
    public static IReadOnlyList<CheckpointFormat> Formats { get; } =
    [
        new("model.safetensors", path => SafetensorsReader.Open(path)),
        new(ShardedSafetensorsReader.IndexFileName, path => ShardedSafetensorsReader.Open(path)),
    ];

    /// <summary>The weights file <see cref="Open"/> would use, or null when the folder has none.</summary>
    public static string? Find(string folder)
    {
        foreach (var format in Formats)
        {
            string path = Path.Combine(folder, format.FileName);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Opens the folder's weights; FileNotFoundException listing the names looked for when there are none.</summary>
    public static ICheckpointReader Open(string folder)
    {
        foreach (var format in Formats)
        {
            string path = Path.Combine(folder, format.FileName);
            if (File.Exists(path)) return format.Open(path);
        }
        throw new FileNotFoundException(
            $"No weights in '{Path.GetFullPath(folder)}': expected one of {string.Join(", ", Formats.Select(f => f.FileName))}.");
    }
}
