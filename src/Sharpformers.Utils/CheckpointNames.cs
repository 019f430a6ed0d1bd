using System.Globalization;

namespace Sharpformers.Utils;

/// <summary>The two weight formats Hugging Face model folders and repositories hold.</summary>
public enum CheckpointFormat
{
    /// <summary>model.safetensors, or its sharded index model.safetensors.index.json.</summary>
    Safetensors,

    /// <summary>pytorch_model.bin (torch.save), or its sharded index pytorch_model.bin.index.json.</summary>
    PyTorch,
}

/// <summary>A weights file name a model folder may hold: its format and whether it is the index of a sharded checkpoint.</summary>
public sealed record CheckpointFileName(string Name, CheckpointFormat Format, bool IsShardIndex);

/// <summary>
/// transformers' weight file names and the one rule for choosing among them. The Hub resolver (which
/// must know the names before it can ask a repository for them) and the readers (which open what a
/// folder holds) both go through <see cref="Preference"/>, so a folder and a repo id always pick the
/// same file.
/// </summary>
public static class CheckpointNames
{
    /// <summary>transformers' SAFE_WEIGHTS_NAME.</summary>
    public const string SafetensorsWeights = "model.safetensors";

    /// <summary>transformers' SAFE_WEIGHTS_INDEX_NAME.</summary>
    public const string SafetensorsIndex = "model.safetensors.index.json";

    /// <summary>transformers' WEIGHTS_NAME.</summary>
    public const string PyTorchWeights = "pytorch_model.bin";

    /// <summary>transformers' WEIGHTS_INDEX_NAME.</summary>
    public const string PyTorchIndex = "pytorch_model.bin.index.json";

    /// <summary>
    /// The order <c>from_pretrained</c> tries: model.safetensors, the sharded model.safetensors.index.json,
    /// pytorch_model.bin, the sharded pytorch_model.bin.index.json. The first one present wins.
    /// </summary>
    public static IReadOnlyList<CheckpointFileName> Preference { get; } =
    [
        new(SafetensorsWeights, CheckpointFormat.Safetensors, IsShardIndex: false),
        new(SafetensorsIndex, CheckpointFormat.Safetensors, IsShardIndex: true),
        new(PyTorchWeights, CheckpointFormat.PyTorch, IsShardIndex: false),
        new(PyTorchIndex, CheckpointFormat.PyTorch, IsShardIndex: true),
    ];

    /// <summary>"model.safetensors, model.safetensors.index.json, pytorch_model.bin and pytorch_model.bin.index.json", for messages.</summary>
    public static string PreferenceText =>
        string.Join(", ", Preference.Take(Preference.Count - 1).Select(p => p.Name)) + " and " + Preference[^1].Name;

    /// <summary>
    /// The format of a weights file by its name: *.safetensors, *.bin/*.pt/*.pth (torch.save), or a
    /// shard index named after either ("model.safetensors.index.json"); null when the name says neither.
    /// </summary>
    public static CheckpointFormat? FormatOf(string fileName)
    {
        string name = Path.GetFileName(fileName);
        if (name.EndsWith(".index.json", StringComparison.Ordinal)) name = name[..^".index.json".Length];
        if (name.EndsWith(".safetensors", StringComparison.Ordinal)) return CheckpointFormat.Safetensors;
        if (name.EndsWith(".bin", StringComparison.Ordinal) || name.EndsWith(".pt", StringComparison.Ordinal) || name.EndsWith(".pth", StringComparison.Ordinal))
        {
            return CheckpointFormat.PyTorch;
        }
        return null;
    }

    /// <summary>Whether the name is that of a sharded checkpoint's index (*.index.json).</summary>
    public static bool IsShardIndex(string fileName) => fileName.EndsWith(".index.json", StringComparison.Ordinal);

    /// <summary>
    /// transformers' shard naming: "model.safetensors", shard 1 of 3 → "model-00001-of-00003.safetensors"
    /// (<paramref name="index"/> counts from 1).
    /// </summary>
    public static string ShardName(string weightsName, int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, count);
        int dot = weightsName.LastIndexOf('.');
        if (dot <= 0) throw new ArgumentException($"'{weightsName}' has no extension to number the shards before.", nameof(weightsName));
        return string.Create(CultureInfo.InvariantCulture, $"{weightsName[..dot]}-{index:D5}-of-{count:D5}{weightsName[dot..]}");
    }
}
