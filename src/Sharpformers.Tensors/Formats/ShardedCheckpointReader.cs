using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// A sharded checkpoint (<c>model.safetensors.index.json</c> or <c>pytorch_model.bin.index.json</c>):
/// the index's <c>weight_map</c> says which shard file holds each tensor. Shards are opened through
/// a factory, so this class works for any format; each shard is opened once. The index is the
/// authority: the tensors it lists, in its order, each checked to be in its shard.
/// </summary>
public sealed class ShardedCheckpointReader : ICheckpointReader
{
    private readonly Dictionary<string, ICheckpointReader> byTensor;
    private readonly List<ICheckpointReader> shards;
    private readonly List<TensorInfo> infos;

    private ShardedCheckpointReader(string indexPath, Dictionary<string, ICheckpointReader> byTensor, List<ICheckpointReader> shards, List<TensorInfo> infos)
    {
        SourcePath = indexPath;
        this.byTensor = byTensor;
        this.shards = shards;
        this.infos = infos;
    }

    public string SourcePath { get; }

    public IReadOnlyList<TensorInfo> Tensors => infos;

    /// <summary>The shard files, in the order the index first names them.</summary>
    public IReadOnlyList<string> ShardPaths => shards.Select(s => s.SourcePath).ToList();

    /// <summary>
    /// Opens the index and every shard it names (shards live next to the index).
    /// <paramref name="openShard"/> receives a shard's full path, e.g. <c>PyTorchCheckpointReader.Open</c>.
    /// </summary>
    public static ShardedCheckpointReader Open(string indexPath, Func<string, ICheckpointReader> openShard)
    {
        ArgumentException.ThrowIfNullOrEmpty(indexPath);
        ArgumentNullException.ThrowIfNull(openShard);
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"The sharded checkpoint index '{indexPath}' does not exist.", indexPath);
        LfsPointer.ThrowIfPointer(indexPath);
        var weightMap = ReadWeightMap(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;

        var opened = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
        var shards = new List<ICheckpointReader>();
        try
        {
            var byTensor = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
            var infos = new List<TensorInfo>();
            foreach (var (tensor, shardName) in weightMap)
            {
                if (!opened.TryGetValue(shardName, out var shard))
                {
                    string shardPath = Path.Combine(folder, shardName);
                    if (!File.Exists(shardPath))
                    {
                        throw new FileNotFoundException(
                            $"The sharded checkpoint index '{indexPath}' lists the shard '{shardName}' (for '{tensor}'), but '{shardPath}' does not exist. " +
                            "Download every shard the index names (e.g. `sharpformers download REPO_ID`).", shardPath);
                    }
                    shard = openShard(shardPath);
                    opened[shardName] = shard;
                    shards.Add(shard);
                }
                var info = shard.Tensors.FirstOrDefault(t => t.Name == tensor)
                    ?? throw new InvalidDataException(
                        $"The sharded checkpoint index '{indexPath}' puts '{tensor}' in the shard '{shardName}', but that shard has no such tensor.");
                byTensor[tensor] = shard;
                infos.Add(info);
            }
            return new ShardedCheckpointReader(indexPath, byTensor, shards, infos);
        }
        catch
        {
            foreach (var shard in shards) shard.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => byTensor.ContainsKey(name);

    public void ReadAsFloat32(string name, Span<float> destination)
    {
        if (!byTensor.TryGetValue(name, out var shard)) throw new KeyNotFoundException($"The sharded checkpoint '{SourcePath}' has no tensor named '{name}'.");
        shard.ReadAsFloat32(name, destination);
    }

    public void Dispose()
    {
        foreach (var shard in shards) shard.Dispose();
    }

    /// <summary>weight_map entries in file order; shard names must be plain file names next to the index.</summary>
    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
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
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{indexPath}' is not a sharded checkpoint index: expected a JSON object with a \"weight_map\" object.");
            }
            var entries = new List<(string, string)>();
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
                entries.Add((entry.Name, shard));
            }
            if (entries.Count == 0) throw new InvalidDataException($"'{indexPath}': the weight_map is empty.");
            return entries;
        }
    }
}
