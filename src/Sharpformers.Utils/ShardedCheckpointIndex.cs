using System.Text.Json;

namespace Sharpformers.Utils;

/// <summary>
/// The index of a sharded checkpoint (<c>model.safetensors.index.json</c>, <c>pytorch_model.bin.index.json</c>):
/// <c>{"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}</c>. One parser for the Hub
/// resolver (which downloads the shards it names) and the readers (which open them), so both report a
/// damaged index the same way; and the writer <c>sharpformers convert</c> uses.
/// </summary>
public sealed class ShardedCheckpointIndex
{
    private ShardedCheckpointIndex(string path, List<KeyValuePair<string, string>> weightMap, long? totalSize)
    {
        Path = path;
        WeightMap = weightMap;
        TotalSize = totalSize;
        ShardNames = weightMap.Select(e => e.Value).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The index file.</summary>
    public string Path { get; }

    /// <summary>Tensor name → shard file name, in the index's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WeightMap { get; }

    /// <summary>The distinct shard file names, in the order the index first names them.</summary>
    public IReadOnlyList<string> ShardNames { get; }

    /// <summary>metadata.total_size (bytes of all tensors) when the index states it.</summary>
    public long? TotalSize { get; }

    /// <summary>
    /// Reads and validates an index: a JSON object with a non-empty "weight_map" object whose values are
    /// plain file names next to the index (no folders, so an index cannot point outside its folder).
    /// A Git LFS pointer in its place is reported as such.
    /// </summary>
    public static ShardedCheckpointIndex Read(string indexPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(indexPath);
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"The sharded checkpoint index '{indexPath}' does not exist.", indexPath);
        LfsPointer.ThrowIfPointer(indexPath);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The sharded checkpoint index '{indexPath}' is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{indexPath}' is not a sharded checkpoint index: expected a JSON object with a \"weight_map\" object.");
            }
            var entries = new List<KeyValuePair<string, string>>();
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
                entries.Add(new(entry.Name, shard));
            }
            if (entries.Count == 0) throw new InvalidDataException($"'{indexPath}': the weight_map is empty.");
            long? totalSize = root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("total_size", out var total) && total.TryGetInt64(out long size) ? size : null;
            return new ShardedCheckpointIndex(indexPath, entries, totalSize);
        }
    }

    /// <summary>
    /// Writes an index as transformers' save_pretrained does (<c>json.dumps(index, indent=2, sort_keys=True) + "\n"</c>),
    /// atomically.
    /// </summary>
    public static void Write(string indexPath, long totalSize, IEnumerable<KeyValuePair<string, string>> weightMap)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (tensor, shard) in weightMap.OrderBy(e => e.Key, StringComparer.Ordinal)) json.WriteString(tensor, shard);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        AtomicFile.WriteAllBytes(indexPath, buffer.ToArray());
    }

    /// <summary>The message for a shard the index names that is not on disk (the same from the resolver and the readers).</summary>
    public static string MissingShardMessage(string indexPath, string shardName, string shardPath) =>
        $"The sharded checkpoint index '{indexPath}' lists the shard '{shardName}', but '{shardPath}' does not exist: the checkpoint is incomplete. " +
        "Copy or download every shard the index names (`sharpformers download REPO_ID` fetches a whole repository).";

    public override string ToString() => $"{Path} ({WeightMap.Count} tensors in {ShardNames.Count} shards)";
}
