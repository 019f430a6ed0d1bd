using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// A sharded checkpoint (<c>model.safetensors.index.json</c> or <c>pytorch_model.bin.index.json</c>):
/// the index's <c>weight_map</c> says which shard file holds each tensor. Shards are opened through
/// a factory, so this class serves every format (<see cref="CheckpointFiles.Open"/> passes the reader
/// that matches each shard's name); each shard is opened once, and every tensor the index lists is
/// checked to be in its shard before anything is exposed. Zero-copy access and raw reads go straight
/// to the shard that holds the tensor.
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

    /// <summary>The index file.</summary>
    public string SourcePath { get; }

    /// <summary>The tensors the index lists, in its order.</summary>
    public IReadOnlyList<TensorInfo> Tensors => infos;

    /// <summary>The shard files, in the order the index first names them.</summary>
    public IReadOnlyList<string> ShardPaths => shards.Select(s => s.SourcePath).ToList();

    /// <summary>
    /// Opens the index and every shard it names (shards live next to the index).
    /// <paramref name="openShard"/> receives a shard's full path, e.g. <c>PyTorchCheckpointReader.Open</c>.
    /// </summary>
    public static ShardedCheckpointReader Open(string indexPath, Func<string, ICheckpointReader> openShard)
    {
        ArgumentNullException.ThrowIfNull(openShard);
        var index = ShardedCheckpointIndex.Read(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;

        var opened = new Dictionary<string, (ICheckpointReader Reader, Dictionary<string, TensorInfo> Infos)>(StringComparer.Ordinal);
        var shards = new List<ICheckpointReader>();
        try
        {
            // Every shard is checked to exist before any is opened, so a missing one is reported first.
            foreach (string shardName in index.ShardNames)
            {
                string shardPath = Path.Combine(folder, shardName);
                if (!File.Exists(shardPath)) throw new FileNotFoundException(ShardedCheckpointIndex.MissingShardMessage(indexPath, shardName, shardPath), shardPath);
            }
            var byTensor = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
            var infos = new List<TensorInfo>();
            foreach (var (tensor, shardName) in index.WeightMap)
            {
                if (!opened.TryGetValue(shardName, out var shard))
                {
                    var reader = openShard(Path.Combine(folder, shardName));
                    shards.Add(reader);
                    shard = (reader, reader.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal));
                    opened[shardName] = shard;
                }
                if (!shard.Infos.TryGetValue(tensor, out var info))
                {
                    throw new InvalidDataException(
                        $"The sharded checkpoint index '{indexPath}' puts '{tensor}' in the shard '{shardName}', but that shard has no such tensor.");
                }
                byTensor[tensor] = shard.Reader;
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

    public void ReadAsFloat32(string name, Span<float> destination) => Shard(name).ReadAsFloat32(name, destination);

    public void ReadRaw(string name, Span<byte> destination) => Shard(name).ReadRaw(name, destination);

    public bool TryGetFloat32Memory(string name, out Memory<float> memory) => Shard(name).TryGetFloat32Memory(name, out memory);

    public void Dispose()
    {
        foreach (var shard in shards) shard.Dispose();
    }

    private ICheckpointReader Shard(string name) =>
        byTensor.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"The sharded checkpoint '{SourcePath}' has no tensor named '{name}'.");
}
