using System.Globalization;
using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Hub;
using Sharpformers.Models;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.Tensors.Formats.PyTorch;
using Sharpformers.Tensors.Tests;
using Sharpformers.TestSupport;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Tests;

/// <summary>`sharpformers convert --to safetensors`: bit-identical tensors, the goldens, sharding, atomicity and errors.</summary>
public sealed class ConvertCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("convert-tests-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CliApp(CommandRegistry.All()).Run(args, new CliContext { In = TextReader.Null, Out = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A copy of a fixture folder.</summary>
    private string Copy(string fixture, string name)
    {
        string folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(Fixtures.Model(fixture))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    }

    /// <summary>tiny-bert's config and tokenizer files with its weights as two torch.save shards (or one fp16 file) instead.</summary>
    private string CraftedBin(string name, bool sharded, string storageType = "FloatStorage")
    {
        string folder = Copy("tiny-bert", name);
        File.Delete(Path.Combine(folder, CheckpointNames.SafetensorsWeights));
        var all = MiniSafetensors.ReadF32(Path.Combine(Fixtures.Model("tiny-bert"), CheckpointNames.SafetensorsWeights));
        var names = all.Keys.ToList();
        var groups = sharded ? [names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList()] : new List<List<string>> { names };
        var weightMap = new Dictionary<string, string>();
        for (int s = 0; s < groups.Count; s++)
        {
            string file = sharded ? CheckpointNames.ShardName(CheckpointNames.PyTorchWeights, s + 1, groups.Count) : CheckpointNames.PyTorchWeights;
            var tensors = new List<CraftedTensor>();
            var storages = new Dictionary<string, byte[]>();
            foreach (string n in groups[s])
            {
                var (shape, data) = all[n];
                string key = storages.Count.ToString(CultureInfo.InvariantCulture);
                DType dtype = storageType == "HalfStorage" ? DType.F16 : DType.F32;
                byte[] bytes = new byte[data.Length * dtype.SizeOf()];
                ElementConversion.FromFloat32(data, dtype, bytes);
                storages[key] = bytes;
                tensors.Add(new CraftedTensor(n, storageType, key, data.Length, 0, shape, Strides(shape)));
                weightMap[n] = file;
            }
            TorchZipWriter.WriteCheckpoint(Path.Combine(folder, file), TorchZipWriter.StateDictPickle(tensors), storages);
        }
        if (sharded) ShardedCheckpointIndex.Write(Path.Combine(folder, CheckpointNames.PyTorchIndex), 0, weightMap);
        return folder;
    }

    private static long[] Strides(long[] shape)
    {
        long[] strides = new long[shape.Length];
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }

    private static byte[] Raw(ICheckpointReader reader, string name)
    {
        var info = reader.GetInfo(name);
        byte[] bytes = new byte[info.ElementCount * info.DType.SizeOf()];
        reader.ReadRaw(name, bytes);
        return bytes;
    }

    /// <summary>Every tensor of <paramref name="source"/> is in <paramref name="converted"/> with the same dtype, shape and bytes.</summary>
    private static void AssertBitIdentical(string source, string converted)
    {
        using var from = CheckpointFiles.OpenFile(source);
        using var to = CheckpointFiles.OpenFile(converted);
        Assert.Equal(from.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), to.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var info in from.Tensors)
        {
            var copy = to.GetInfo(info.Name);
            Assert.Equal(info.DType, copy.DType);
            Assert.Equal(info.Shape, copy.Shape);
            Assert.True(Raw(from, info.Name).AsSpan().SequenceEqual(Raw(to, info.Name)), $"{info.Name} differs");
        }
    }

    /// <summary>The converted model's logits and softmax for the golden batches, within 1e-5 of transformers'.</summary>
    private static void AssertMatchesGoldens(string folder)
    {
        var golden = Goldens.Load("tiny-bert");
        using var model = AutoModelForSequenceClassification.FromPretrained(folder);
        foreach (string section in new[] { "batch", "batch_max_length_16", "pair" })
        {
            var expected = golden.At($"sequence_classification.{section}");
            var inputs = golden.At(expected.GetProperty("inputs").GetString()!);
            var logits = model.Forward(new ModelInputs
            {
                InputIds = IntTensor.FromRows(inputs.GetProperty("input_ids").IntRows()),
                AttentionMask = IntTensor.FromRows(inputs.GetProperty("attention_mask").IntRows()),
                TokenTypeIds = IntTensor.FromRows(inputs.GetProperty("token_type_ids").IntRows()),
            }).Logits;
            Approx.Equal(expected.GetProperty("logits").Tensor().Data, logits.Span, 1e-5, what: $"{section} logits");
            Approx.Equal(expected.GetProperty("softmax").Tensor().Data, logits.Softmax(dim: -1).Span, 1e-5, what: $"{section} softmax");
        }
    }

    [Fact]
    public void InPlace_AddsModelSafetensorsBesideTheBin_BitIdentical_AndLoadingPrefersIt()
    {
        string folder = Copy("tiny-bert-bin", "in-place");

        var (code, stdout, stderr) = Run("convert", "--to", "safetensors", folder);

        Assert.True(code == 0, stderr);
        string converted = Path.Combine(folder, CheckpointNames.SafetensorsWeights);
        Assert.Equal(converted + Environment.NewLine, stdout);
        Assert.Equal("", stderr);
        AssertBitIdentical(Path.Combine(folder, CheckpointNames.PyTorchWeights), converted);
        // tiny-bert-bin holds tiny-bert's weights: the converted file is, byte for byte, the model.safetensors transformers wrote.
        Assert.Equal(File.ReadAllBytes(Path.Combine(Fixtures.Model("tiny-bert"), CheckpointNames.SafetensorsWeights)), File.ReadAllBytes(converted));
        using (var reader = SafetensorsReader.Open(converted))
        {
            Assert.Equal("pt", reader.Metadata["format"]);
        }
        Assert.True(File.Exists(Path.Combine(folder, CheckpointNames.PyTorchWeights)));
        Assert.Equal(CheckpointFormat.Safetensors, PretrainedFiles.ResolveCheckpoint(folder).Format);
        AssertMatchesGoldens(folder);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void ToANewFolder_CopiesTheOtherFiles_AndClassifyOnItMatchesThePipelineGoldens()
    {
        string source = Copy("tiny-bert-bin", "source");
        string output = Path.Combine(root, "converted");

        var (code, stdout, stderr) = Run("convert", "--to", "safetensors", source, "--output", output);

        Assert.True(code == 0, stderr);
        Assert.Equal(Path.Combine(output, CheckpointNames.SafetensorsWeights) + Environment.NewLine, stdout);
        Assert.Equal(
            ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string file in new[] { "config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, file)), File.ReadAllBytes(Path.Combine(output, file)));
        }
        AssertBitIdentical(Path.Combine(source, CheckpointNames.PyTorchWeights), Path.Combine(output, CheckpointNames.SafetensorsWeights));
        Assert.Empty(Directory.GetDirectories(root, ".converted*"));

        var golden = Goldens.Load("tiny-bert").GetProperty("pipeline_text_classification");
        string[] texts = golden.GetProperty("texts").Strings();
        var classify = Run(["classify", "--model", output, "--format", "jsonl", .. texts]);
        Assert.True(classify.Code == 0, classify.Err);
        var lines = classify.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts.Length, lines.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var expected = golden.GetProperty("default")[i];
            Assert.Equal(expected.GetProperty("label").GetString(), line.RootElement.GetProperty("label").GetString());
            Assert.Equal(expected.GetProperty("score").GetDouble(), line.RootElement.GetProperty("score").GetDouble(), 1e-5);
        }
    }

    [Fact]
    public void ShardedBin_BecomesShardedSafetensorsWithAnIndex_GroupedAsTheSource()
    {
        string source = CraftedBin("sharded-source", sharded: true);
        string output = Path.Combine(root, "sharded-out");

        var (code, stdout, stderr) = Run("convert", "--to", "safetensors", source, "--output", output);

        Assert.True(code == 0, stderr);
        string index = Path.Combine(output, CheckpointNames.SafetensorsIndex);
        Assert.Equal(index + Environment.NewLine, stdout);
        Assert.Equal(
            ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
             "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var sourceIndex = ShardedCheckpointIndex.Read(Path.Combine(source, CheckpointNames.PyTorchIndex));
        var written = ShardedCheckpointIndex.Read(index);
        Assert.Equal(
            sourceIndex.WeightMap.ToDictionary(e => e.Key, e => e.Value.Replace("pytorch_model", "model").Replace(".bin", ".safetensors")),
            written.WeightMap.ToDictionary(e => e.Key, e => e.Value));
        long totalBytes;
        using (var reader = CheckpointFiles.OpenFile(Path.Combine(source, CheckpointNames.PyTorchIndex)))
        {
            totalBytes = reader.Tensors.Sum(t => t.ElementCount * 4);
        }
        Assert.Equal(totalBytes, written.TotalSize);
        Assert.StartsWith("{\n  \"metadata\": {\n    \"total_size\": ", File.ReadAllText(index));
        AssertBitIdentical(Path.Combine(source, CheckpointNames.PyTorchIndex), index);
        AssertMatchesGoldens(output);
    }

    [Fact]
    public void ShardedBin_InPlace_WritesTheShardsThenTheIndex()
    {
        string folder = CraftedBin("sharded-in-place", sharded: true);

        var (code, stdout, stderr) = Run("convert", "--to", "safetensors", folder);

        Assert.True(code == 0, stderr);
        Assert.Equal(Path.Combine(folder, CheckpointNames.SafetensorsIndex) + Environment.NewLine, stdout);
        var resolved = PretrainedFiles.ResolveCheckpoint(folder);
        Assert.Equal(CheckpointFormat.Safetensors, resolved.Format);
        Assert.Equal(2, resolved.ShardPaths.Count);
        AssertMatchesGoldens(folder);
    }

    [Fact]
    public void HalfPrecisionBin_StaysHalfPrecision_BitForBit()
    {
        string source = CraftedBin("fp16", sharded: false, storageType: "HalfStorage");

        var (code, _, stderr) = Run("convert", "--to", "safetensors", source);

        Assert.True(code == 0, stderr);
        string converted = Path.Combine(source, CheckpointNames.SafetensorsWeights);
        using (var reader = SafetensorsReader.Open(converted))
        {
            Assert.All(reader.Tensors, t => Assert.Equal(DType.F16, t.DType));
        }
        AssertBitIdentical(Path.Combine(source, CheckpointNames.PyTorchWeights), converted);
    }

    [Fact]
    public void ClearErrors_AndNothingHalfWritten()
    {
        string noBin = Copy("tiny-bert", "no-bin");
        var (code, _, stderr) = Run("convert", "--to", "safetensors", noBin);
        Assert.Equal(1, code);
        Assert.Equal($"error: '{noBin}' has no PyTorch weights to convert: expected pytorch_model.bin or pytorch_model.bin.index.json.\n", stderr);

        string both = Copy("tiny-bert-bin", "both");
        File.Copy(Path.Combine(Fixtures.Model("tiny-bert"), CheckpointNames.SafetensorsWeights), Path.Combine(both, CheckpointNames.SafetensorsWeights));
        (code, _, stderr) = Run("convert", "--to", "safetensors", both);
        Assert.Equal(1, code);
        Assert.Equal(
            $"error: '{both}' already has model.safetensors, which loading prefers to pytorch_model.bin; pass --output OUT to convert into a new folder.\n", stderr);

        string source = Copy("tiny-bert-bin", "source");
        (code, _, stderr) = Run("convert", "--to", "safetensors", source, "--output", noBin);
        Assert.Equal(1, code);
        Assert.Equal($"error: '{noBin}' already exists and is not an empty folder; choose a new --output folder.\n", stderr);

        (code, _, stderr) = Run("convert", source);
        Assert.Equal(2, code);
        Assert.StartsWith("error: missing required option '--to' (safetensors)\n", stderr);
        (code, _, stderr) = Run("convert", "--to", "onnx", source);
        Assert.Equal(2, code);
        Assert.StartsWith("error: option '--to' expects one of safetensors; got 'onnx'\n", stderr);

        // A clone without LFS: the pointer is reported, and nothing is written.
        string clone = Copy("tiny-bert-bin", "clone");
        string bin = Path.Combine(clone, CheckpointNames.PyTorchWeights);
        File.WriteAllText(bin, "version https://git-lfs.github.com/spec/v1\noid sha256:abcd\nsize 212076\n");
        (code, _, stderr) = Run("convert", "--to", "safetensors", clone, "--output", Path.Combine(root, "from-clone"));
        Assert.Equal(1, code);
        Assert.StartsWith($"error: '{bin}' is a Git LFS pointer file, not the file's content (the real file is 212076 bytes, sha256:abcd)", stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "from-clone")));

        // A damaged checkpoint: no output folder, and no temporary folder left behind.
        string damaged = Copy("tiny-bert-bin", "damaged");
        byte[] bytes = File.ReadAllBytes(Path.Combine(damaged, CheckpointNames.PyTorchWeights));
        File.WriteAllBytes(Path.Combine(damaged, CheckpointNames.PyTorchWeights), bytes[..(bytes.Length / 2)]);
        (code, _, stderr) = Run("convert", "--to", "safetensors", damaged, "--output", Path.Combine(root, "from-damaged"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "from-damaged")));
        Assert.Empty(Directory.GetDirectories(root, ".from-damaged*"));
        (code, _, _) = Run("convert", "--to", "safetensors", damaged);
        Assert.Equal(1, code);
        Assert.Equal(["config.json", "pytorch_model.bin", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"],
            Directory.GetFiles(damaged).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
