namespace Sharpformers.Utils.Tests;

public sealed class CheckpointNamesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("checkpoint-names-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Preference_IsTransformersOrder()
    {
        Assert.Equal(
            [("model.safetensors", false), ("model.safetensors.index.json", true), ("pytorch_model.bin", false), ("pytorch_model.bin.index.json", true)],
            CheckpointNames.Preference.Select(p => (p.Name, p.IsShardIndex)));
        Assert.Equal("model.safetensors, model.safetensors.index.json, pytorch_model.bin and pytorch_model.bin.index.json", CheckpointNames.PreferenceText);
    }

    [Theory]
    [InlineData("model.safetensors", CheckpointFormat.Safetensors)]
    [InlineData("model-00001-of-00002.safetensors", CheckpointFormat.Safetensors)]
    [InlineData("model.safetensors.index.json", CheckpointFormat.Safetensors)]
    [InlineData("pytorch_model.bin", CheckpointFormat.PyTorch)]
    [InlineData("sub/pytorch_model-00002-of-00003.bin", CheckpointFormat.PyTorch)]
    [InlineData("pytorch_model.bin.index.json", CheckpointFormat.PyTorch)]
    [InlineData("checkpoint.pt", CheckpointFormat.PyTorch)]
    [InlineData("config.json", null)]
    [InlineData("model.onnx", null)]
    public void FormatOf_ReadsTheName(string name, CheckpointFormat? expected) => Assert.Equal(expected, CheckpointNames.FormatOf(name));

    [Fact]
    public void ShardNames_AreTransformers()
    {
        Assert.Equal("model-00001-of-00002.safetensors", CheckpointNames.ShardName("model.safetensors", 1, 2));
        Assert.Equal("pytorch_model-00012-of-00100.bin", CheckpointNames.ShardName("pytorch_model.bin", 12, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => CheckpointNames.ShardName("model.safetensors", 3, 2));
    }

    [Fact]
    public void IndexIsWrittenAsSavePretrainedWritesIt_AndReadsBack()
    {
        string path = Path.Combine(dir, "model.safetensors.index.json");

        ShardedCheckpointIndex.Write(path, 1234, [new("b.weight", "model-00002-of-00002.safetensors"), new("a.bias", "model-00001-of-00002.safetensors")]);

        // json.dumps(index, indent=2, sort_keys=True) + "\n"
        Assert.Equal(
            "{\n  \"metadata\": {\n    \"total_size\": 1234\n  },\n  \"weight_map\": {\n    \"a.bias\": \"model-00001-of-00002.safetensors\",\n" +
            "    \"b.weight\": \"model-00002-of-00002.safetensors\"\n  }\n}\n",
            File.ReadAllText(path));
        var index = ShardedCheckpointIndex.Read(path);
        Assert.Equal(1234, index.TotalSize);
        Assert.Equal(["a.bias", "b.weight"], index.WeightMap.Select(e => e.Key));
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], index.ShardNames);
    }

    [Fact]
    public void MissingIndex_IsFileNotFound()
    {
        string path = Path.Combine(dir, "nope.index.json");
        var e = Assert.Throws<FileNotFoundException>(() => ShardedCheckpointIndex.Read(path));
        Assert.Equal($"The sharded checkpoint index '{path}' does not exist.", e.Message);
    }
}
