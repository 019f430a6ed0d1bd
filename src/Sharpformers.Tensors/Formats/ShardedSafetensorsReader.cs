using System.Text.Json;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// A checkpoint split over several safetensors files, as save_pretrained writes large models:
/// <c>model.safetensors.index.json</c> maps each tensor name to its shard in <c>weight_map</c>.
/// Every shard is opened (and validated) up front; a name listed in the index must be in its shard.
/// </summary>
public sealed class ShardedSafetensorsReader : ICheckpointReader
{
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsReader> shardByTensor;
    private readonly List<SafetensorsReader> shards;
    private readonly List<TensorInfo> tensors;

    private ShardedSafetensorsReader(string path, List<SafetensorsReader> shards, Dictionary<string, SafetensorsReader> shardByTensor)
    {
        SourcePath = path;
        this.shards = shards;
        this.shardByTensor = shardByTensor;
        tensors = shards.SelectMany(s => s.Tensors).Where(t => shardByTensor.TryGetValue(t.Name, out var s) && s.Tensors.Contains(t)).ToList();
    }

    public string SourcePath { get; }

    public IReadOnlyList<TensorInfo> Tensors => tensors;

    public static ShardedSafetensorsReader Open(string indexPath)
    {
        string full = Path.GetFullPath(indexPath);
        if (!File.Exists(full)) throw new FileNotFoundException($"Checkpoint index '{full}' was not found.", full);
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(full));
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{full}: expected an object with a 'weight_map' object (tensor name → shard file).");
            }
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidDataException($"{full}: weight_map entry '{entry.Name}' must be a file name string.");
                }
                weightMap[entry.Name] = entry.Value.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{full} is not valid JSON: {e.Message}", e);
        }
        string folder = Path.GetDirectoryName(full)!;
        var opened = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
        try
        {
            foreach (string file in weightMap.Values.Distinct(StringComparer.Ordinal))
            {
                if (file.Contains('/') || file.Contains('\\') || file is "." or "..")
                {
                    throw new InvalidDataException($"{full}: shard '{file}' must be a file name in the same folder.");
                }
                opened[file] = SafetensorsReader.Open(Path.Combine(folder, file));
            }
            var byTensor = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (var (name, file) in weightMap)
            {
                var shard = opened[file];
                if (!shard.Contains(name)) throw new InvalidDataException($"{full}: '{name}' is mapped to {file}, which does not contain it.");
                byTensor[name] = shard;
            }
            return new ShardedSafetensorsReader(full, opened.Values.ToList(), byTensor);
        }
        catch
        {
            foreach (var reader in opened.Values) reader.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => shardByTensor.ContainsKey(name);

    public void ReadAsFloat32(string name, Span<float> destination) => Shard(name).ReadAsFloat32(name, destination);

    public bool TryGetFloat32Memory(string name, out Memory<float> memory) => Shard(name).TryGetFloat32Memory(name, out memory);

    public void Dispose()
    {
        foreach (var shard in shards) shard.Dispose();
    }

    private SafetensorsReader Shard(string name) =>
        shardByTensor.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"'{SourcePath}' has no tensor named '{name}'.");
}
