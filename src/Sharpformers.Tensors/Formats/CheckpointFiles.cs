using Sharpformers.Tensors.Formats.PyTorch;
using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// Opens the weights of a Hugging Face model: a folder (the first weights file present in
/// <see cref="CheckpointNames.Preference"/>'s order, the rule the Hub resolver follows too) or one
/// weights file, whose reader is chosen by its name: <c>*.safetensors</c> → <see cref="SafetensorsReader"/>,
/// <c>*.bin</c>/<c>*.pt</c>/<c>*.pth</c> → <see cref="PyTorchCheckpointReader"/>, <c>*.index.json</c> →
/// <see cref="ShardedCheckpointReader"/> over shards opened the same way.
/// </summary>
public static class CheckpointFiles
{
    /// <summary>The weights file <see cref="Open"/> would use in <paramref name="folder"/>, or null when it has none.</summary>
    public static string? Find(string folder)
    {
        foreach (var candidate in CheckpointNames.Preference)
        {
            string path = Path.Combine(folder, candidate.Name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>
    /// Opens a model folder's weights or a weights file. A folder without weights is a
    /// FileNotFoundException listing the names looked for.
    /// </summary>
    public static ICheckpointReader Open(string folderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderOrFile);
        if (!Directory.Exists(folderOrFile)) return OpenFile(folderOrFile);
        return OpenFile(Find(folderOrFile) ?? throw new FileNotFoundException(
            $"No weights in '{Path.GetFullPath(folderOrFile)}': expected one of {CheckpointNames.PreferenceText}."));
    }

    /// <summary>Opens one weights file (or shard index) with the reader its name calls for.</summary>
    public static ICheckpointReader OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (CheckpointNames.IsShardIndex(path)) return ShardedCheckpointReader.Open(path, OpenShard);
        return CheckpointNames.FormatOf(path) switch
        {
            CheckpointFormat.Safetensors => SafetensorsReader.Open(path),
            CheckpointFormat.PyTorch => PyTorchCheckpointReader.Open(path),
            _ => throw UnknownKind(path),
        };
    }

    private static ICheckpointReader OpenShard(string path) =>
        CheckpointNames.IsShardIndex(path)
            ? throw new InvalidDataException($"'{path}' is a shard index listed as a shard of another index; shards must be weights files.")
            : OpenFile(path);

    private static InvalidDataException UnknownKind(string path) =>
        new($"'{path}' is not a weights file Sharpformers can tell by its name: expected *.safetensors, *.bin (torch.save) or a *.index.json shard index.");
}
