using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Sharpformers.Tensors.Formats;
using Sharpformers.Tensors.Formats.PyTorch;
using static Sharpformers.Tensors.Tests.PyTorchPaths;

namespace Sharpformers.Tensors.Tests;

public sealed class ShardedCheckpointReaderTests
{
    private readonly string dir = NewTempDir();

    /// <summary>Splits tiny-bert's weights into two shards of the given writer's format plus an index.</summary>
    private string MakeShards(string indexName, string shardPattern, Action<string, Dictionary<string, (long[] Shape, float[] Data)>> writeShard)
    {
        var all = MiniSafetensors.ReadF32(TinyBertSafetensors);
        var names = all.Keys.ToList();
        var halves = new[] { names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList() };
        var weightMap = new Dictionary<string, string>();
        for (int s = 0; s < 2; s++)
        {
            string shard = string.Format(shardPattern, s + 1);
            writeShard(Path.Combine(dir, shard), halves[s].ToDictionary(n => n, n => all[n]));
            foreach (string n in halves[s]) weightMap[n] = shard;
        }
        string index = Path.Combine(dir, indexName);
        File.WriteAllText(index, JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));
        return index;
    }

    private static void WriteBinShard(string path, Dictionary<string, (long[] Shape, float[] Data)> tensors)
    {
        var crafted = new List<CraftedTensor>();
        var storages = new Dictionary<string, byte[]>();
        foreach (var (name, (shape, data)) in tensors)
        {
            string key = storages.Count.ToString();
            byte[] bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            storages[key] = bytes;
            long[] strides = new long[shape.Length];
            long stride = 1;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                strides[d] = stride;
                stride *= shape[d];
            }
            crafted.Add(new CraftedTensor(name, "FloatStorage", key, data.Length, 0, shape, strides));
        }
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle(crafted), storages);
    }

    private static void WriteSafetensorsShard(string path, Dictionary<string, (long[] Shape, float[] Data)> tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, (shape, data)) in tensors)
        {
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + data.Length * 4 } };
            offset += data.Length * 4;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        byte[] length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, json.Length);
        file.Write(length);
        file.Write(json);
        foreach (var (_, (_, data)) in tensors)
        {
            byte[] bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            file.Write(bytes);
        }
    }

    [Fact]
    public void ShardedPytorchBin_LoadsEveryTensorOfTinyBert_BitForBit()
    {
        string index = MakeShards("pytorch_model.bin.index.json", "pytorch_model-0000{0}-of-00002.bin", WriteBinShard);
        var expected = MiniSafetensors.ReadF32(TinyBertSafetensors);

        using var reader = ShardedCheckpointReader.Open(index, PyTorchCheckpointReader.Open);

        Assert.Equal(index, reader.SourcePath);
        Assert.Equal(["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"], reader.ShardPaths.Select(Path.GetFileName));
        Assert.Equal(expected.Keys, reader.Tensors.Select(t => t.Name));
        foreach (var (name, (shape, data)) in expected)
        {
            Assert.Equal(shape, reader.Tensors.Single(t => t.Name == name).Shape);
            Assert.Equal(data, Read(reader, name));
        }
    }

    [Fact]
    public void ShardedSafetensors_ThroughAnyFactory_LoadsEveryTensor()
    {
        string index = MakeShards("model.safetensors.index.json", "model-0000{0}-of-00002.safetensors", WriteSafetensorsShard);
        var expected = MiniSafetensors.ReadF32(TinyBertSafetensors);
        var opened = new List<string>();

        using var reader = ShardedCheckpointReader.Open(index, path =>
        {
            opened.Add(Path.GetFileName(path));
            return new InMemoryReader(path, MiniSafetensors.ReadF32(path));
        });

        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], opened);
        foreach (var (name, (_, data)) in expected) Assert.Equal(data, Read(reader, name));
        Assert.True(reader.Contains("classifier.weight"));
        var e = Assert.Throws<KeyNotFoundException>(() => reader.ReadAsFloat32("nope", new float[1]));
        Assert.Equal($"The sharded checkpoint '{index}' has no tensor named 'nope'.", e.Message);
    }

    [Fact]
    public void MissingShard_NamesTheIndexAndTheShard()
    {
        string index = MakeShards("pytorch_model.bin.index.json", "pytorch_model-0000{0}-of-00002.bin", WriteBinShard);
        string missing = Path.Combine(dir, "pytorch_model-00002-of-00002.bin");
        File.Delete(missing);

        var e = Assert.Throws<FileNotFoundException>(() => ShardedCheckpointReader.Open(index, PyTorchCheckpointReader.Open));

        Assert.Equal(
            $"The sharded checkpoint index '{index}' lists the shard 'pytorch_model-00002-of-00002.bin', but '{missing}' does not exist: the checkpoint is incomplete. " +
            "Copy or download every shard the index names (`sharpformers download REPO_ID` fetches a whole repository).",
            e.Message);
    }

    [Fact]
    public void TensorNotInItsShard_IsReported()
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, "{\"weight_map\": {\"ghost.weight\": \"a.bin\"}}");
        WriteBinShard(Path.Combine(dir, "a.bin"), new Dictionary<string, (long[], float[])> { ["real.weight"] = ([1], [1f]) });

        var e = Assert.Throws<InvalidDataException>(() => ShardedCheckpointReader.Open(index, PyTorchCheckpointReader.Open));

        Assert.Equal($"The sharded checkpoint index '{index}' puts 'ghost.weight' in the shard 'a.bin', but that shard has no such tensor.", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", " is not a sharded checkpoint index: expected a JSON object with a \"weight_map\" object.")]
    [InlineData("{\"weight_map\": {\"a\": \"../../etc/passwd\"}}", ": weight_map[\"a\"] = '../../etc/passwd' is not a plain file name next to the index.")]
    [InlineData("{\"weight_map\": {\"a\": 3}}", ": weight_map[\"a\"] must be a shard file name (a string), got Number.")]
    [InlineData("{\"weight_map\": {}}", ": the weight_map is empty.")]
    public void MalformedIndexes_AreReported(string json, string expectedEnd)
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, json);

        var e = Assert.Throws<InvalidDataException>(() => ShardedCheckpointReader.Open(index, PyTorchCheckpointReader.Open));

        Assert.Equal($"'{index}'{expectedEnd}", e.Message);
    }

    [Fact]
    public void IndexThatIsAnLfsPointer_IsReported()
    {
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n");

        var e = Assert.Throws<InvalidDataException>(() => ShardedCheckpointReader.Open(index, PyTorchCheckpointReader.Open));

        Assert.StartsWith($"'{index}' is a Git LFS pointer file, not the file's content (the real file is 10 bytes, sha256:abc)", e.Message);
    }

    [Fact]
    public void CheckpointFilesOpen_OfAShardedSafetensorsFolder_MapsEachTensorFromItsShard()
    {
        SafetensorsWriter.Write(Path.Combine(dir, "model-00001-of-00002.safetensors"), new Dictionary<string, Tensor> { ["a"] = Tensor.Full(1f, 2) });
        SafetensorsWriter.Write(Path.Combine(dir, "model-00002-of-00002.safetensors"), new Dictionary<string, Tensor> { ["b"] = Tensor.Full(2f, 3) });
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"),
            "{\"metadata\": {\"total_size\": 20}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}}");

        using var reader = CheckpointFiles.Open(dir);

        var sharded = Assert.IsType<ShardedCheckpointReader>(reader);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], sharded.ShardPaths.Select(Path.GetFileName));
        Assert.Equal(["a", "b"], reader.Tensors.Select(t => t.Name));
        Assert.Equal([2f, 2f, 2f], reader.ReadTensor("b").ToArray());
        Assert.True(reader.TryGetFloat32Memory("a", out var a));
        Assert.Equal([1f, 1f], a.ToArray());
        byte[] raw = new byte[12];
        reader.ReadRaw("b", raw);
        Assert.Equal(BitConverter.GetBytes(2f).Concat(BitConverter.GetBytes(2f)).Concat(BitConverter.GetBytes(2f)), raw);
    }

    [Fact]
    public void ShardedPytorchBin_ThroughCheckpointFiles_PicksTheReaderByTheShardsNames()
    {
        string index = MakeShards("pytorch_model.bin.index.json", "pytorch_model-0000{0}-of-00002.bin", WriteBinShard);

        using var reader = CheckpointFiles.Open(dir);

        Assert.Equal(index, reader.SourcePath);
        Assert.Equal(MiniSafetensors.ReadF32(TinyBertSafetensors)["classifier.weight"].Data, Read(reader, "classifier.weight"));
    }

    /// <summary>A reader over already-decoded tensors: the factory seam does not care about formats.</summary>
    private sealed class InMemoryReader(string path, Dictionary<string, (long[] Shape, float[] Data)> tensors) : ICheckpointReader
    {
        public string SourcePath => path;

        public IReadOnlyList<TensorInfo> Tensors { get; } = tensors.Select(t => new TensorInfo(t.Key, DType.F32, t.Value.Shape)).ToList();

        public bool Contains(string name) => tensors.ContainsKey(name);

        public void ReadAsFloat32(string name, Span<float> destination) => tensors[name].Data.CopyTo(destination);

        public void Dispose()
        {
        }
    }
}
