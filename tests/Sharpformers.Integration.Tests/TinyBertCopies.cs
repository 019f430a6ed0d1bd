using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.Tensors.Tests;
using Sharpformers.TestSupport;
using Sharpformers.Utils;

namespace Sharpformers.Integration.Tests;

/// <summary>
/// Writes tiny-bert in other checkpoint layouts (sharded safetensors, sharded torch.save, fp16/bf16,
/// perturbed fp32, a git clone without LFS) next to copies of its config and tokenizer files.
/// </summary>
internal static class TinyBertCopies
{
    public static string SafetensorsPath => Path.Combine(Fixtures.Model(GoldenChecks.Fixture), CheckpointNames.SafetensorsWeights);

    /// <summary>A new folder holding tiny-bert's files except its weights.</summary>
    public static string FolderWithoutWeights(string root, string name)
    {
        string folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(Fixtures.Model(GoldenChecks.Fixture)))
        {
            if (Path.GetFileName(file) != CheckpointNames.SafetensorsWeights) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        return folder;
    }

    /// <summary>tiny-bert's tensor names, in the file's order.</summary>
    public static IReadOnlyList<string> TensorNames()
    {
        using var reader = SafetensorsReader.Open(SafetensorsPath);
        return reader.Tensors.Select(t => t.Name).ToList();
    }

    /// <summary>The first half of the tensors in shard 1, the rest in shard 2, as save_pretrained(max_shard_size=…) splits.</summary>
    public static List<List<string>> TwoShards()
    {
        var names = TensorNames();
        return [names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList()];
    }

    /// <summary>model.safetensors.index.json + two shards, written with our SafetensorsWriter; every tensor bit-identical.</summary>
    public static string ShardedSafetensors(string root, string name = "sharded-safetensors")
    {
        string folder = FolderWithoutWeights(root, name);
        WriteShardedSafetensors(folder);
        return folder;
    }

    /// <summary>pytorch_model.bin.index.json + two torch.save shards (the PyTorch tests' writer), every tensor bit-identical.</summary>
    public static string ShardedPyTorch(string root, string name = "sharded-bin")
    {
        string folder = FolderWithoutWeights(root, name);
        WriteShardedPyTorch(folder);
        return folder;
    }

    /// <summary>Writes tiny-bert's weights (changed by <paramref name="change"/>) as an index and two safetensors shards into <paramref name="folder"/>.</summary>
    public static void WriteShardedSafetensors(string folder, Func<string, int, float, float>? change = null)
    {
        var all = Weights(change);
        var shards = TwoShards();
        var weightMap = new List<KeyValuePair<string, string>>();
        for (int s = 0; s < shards.Count; s++)
        {
            string shard = CheckpointNames.ShardName(CheckpointNames.SafetensorsWeights, s + 1, shards.Count);
            SafetensorsWriter.Write(Path.Combine(folder, shard),
                shards[s].Select(n => new KeyValuePair<string, ITensor>(n, Tensor.FromArray(all[n].Data, all[n].Shape.Select(d => (int)d).ToArray()))));
            weightMap.AddRange(shards[s].Select(n => new KeyValuePair<string, string>(n, shard)));
        }
        ShardedCheckpointIndex.Write(Path.Combine(folder, CheckpointNames.SafetensorsIndex), all.Values.Sum(t => t.Data.Length * 4L), weightMap);
    }

    /// <summary>Writes tiny-bert's weights (changed by <paramref name="change"/>) as an index and two torch.save shards into <paramref name="folder"/>.</summary>
    public static void WriteShardedPyTorch(string folder, Func<string, int, float, float>? change = null)
    {
        var all = Weights(change);
        var shards = TwoShards();
        var weightMap = new List<KeyValuePair<string, string>>();
        for (int s = 0; s < shards.Count; s++)
        {
            string shard = CheckpointNames.ShardName(CheckpointNames.PyTorchWeights, s + 1, shards.Count);
            WritePyTorch(Path.Combine(folder, shard), shards[s].ToDictionary(n => n, n => all[n]));
            weightMap.AddRange(shards[s].Select(n => new KeyValuePair<string, string>(n, shard)));
        }
        ShardedCheckpointIndex.Write(Path.Combine(folder, CheckpointNames.PyTorchIndex), all.Values.Sum(t => t.Data.Length * 4L), weightMap);
    }

    /// <summary>Writes tiny-bert's weights (changed by <paramref name="change"/>) as one torch.save file.</summary>
    public static void WritePyTorch(string path, Func<string, int, float, float>? change = null) => WritePyTorch(path, Weights(change));

    /// <summary>Writes tiny-bert's weights (changed by <paramref name="change"/>) as model.safetensors into <paramref name="folder"/>.</summary>
    public static void WriteSafetensors(string folder, Func<string, int, float, float>? change = null) =>
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointNames.SafetensorsWeights),
            Weights(change).Select(t => new KeyValuePair<string, ITensor>(t.Key, Tensor.FromArray(t.Value.Data, t.Value.Shape.Select(d => (int)d).ToArray()))));

    private static Dictionary<string, (long[] Shape, float[] Data)> Weights(Func<string, int, float, float>? change)
    {
        var all = MiniSafetensors.ReadF32(SafetensorsPath);
        if (change is null) return all;
        return all.ToDictionary(t => t.Key, t => (t.Value.Shape, t.Value.Data.Select((v, i) => change(t.Key, i, v)).ToArray()));
    }

    private static void WritePyTorch(string path, Dictionary<string, (long[] Shape, float[] Data)> weights)
    {
        var tensors = new List<CraftedTensor>();
        var storages = new Dictionary<string, byte[]>();
        foreach (var (n, (shape, data)) in weights)
        {
            string key = storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            byte[] bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            storages[key] = bytes;
            tensors.Add(new CraftedTensor(n, "FloatStorage", key, data.Length, 0, shape, RowMajorStrides(shape)));
        }
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle(tensors), storages);
    }

    /// <summary>model.safetensors with every weight stored as <paramref name="dtype"/> (F16 or BF16), rounded to nearest even.</summary>
    public static string HalfPrecision(string root, DType dtype) =>
        Rewritten(root, $"tiny-bert-{dtype}", (_, values) =>
        {
            byte[] bytes = new byte[values.Length * dtype.SizeOf()];
            ElementConversion.FromFloat32(values, dtype, bytes);
            return (dtype, bytes);
        });

    /// <summary>float32 weights that went through <paramref name="dtype"/> and back: what a half-precision checkpoint holds, widened.</summary>
    public static string RoundedThrough(string root, DType dtype) =>
        Rewritten(root, $"tiny-bert-f32-rounded-through-{dtype}", (_, values) => (DType.F32, Floats(RoundTrip(values, dtype))));

    /// <summary>float32 weights changed element by element by <paramref name="change"/>(tensor name, index, value).</summary>
    public static string Perturbed(string root, string name, Func<string, int, float, float> change) =>
        Rewritten(root, name, (tensor, values) => (DType.F32, Floats(values.Select((v, i) => change(tensor, i, v)).ToArray())));

    /// <summary>float32 values rounded to <paramref name="dtype"/> and widened back (exact widening).</summary>
    public static float[] RoundTrip(float[] values, DType dtype)
    {
        byte[] bytes = new byte[values.Length * dtype.SizeOf()];
        ElementConversion.FromFloat32(values, dtype, bytes);
        float[] back = new float[values.Length];
        ElementConversion.ToFloat32(dtype, bytes, back);
        return back;
    }

    /// <summary>
    /// Half the spacing of <paramref name="dtype"/>'s values around <paramref name="value"/>: the largest
    /// error rounding to nearest can make (fp16: 10 mantissa bits, smallest normal 2^-14; bf16: 7 bits, 2^-126).
    /// </summary>
    public static double HalfUlp(float value, DType dtype)
    {
        (int mantissaBits, int minExponent) = dtype switch
        {
            DType.F16 => (10, -14),
            DType.BF16 => (7, -126),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
        int exponent = value == 0 ? minExponent : Math.Max(Math.ILogB(value), minExponent);
        return Math.ScaleB(1, exponent - mantissaBits - 1);
    }

    private static string Rewritten(string root, string name, Func<string, float[], (DType DType, byte[] Bytes)> rewrite)
    {
        string folder = FolderWithoutWeights(root, name);
        using var reader = SafetensorsReader.Open(SafetensorsPath);
        var tensors = new List<KeyValuePair<string, ITensor>>();
        foreach (var info in reader.Tensors)
        {
            float[] values = reader.ReadTensor(info.Name).ToArray();
            var (dtype, bytes) = rewrite(info.Name, values);
            tensors.Add(new(info.Name, new RawTensor(dtype, Shape(reader, info.Name), bytes)));
        }
        SafetensorsWriter.Write(Path.Combine(folder, CheckpointNames.SafetensorsWeights), tensors);
        return folder;
    }

    private static byte[] Floats(float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        ElementConversion.FromFloat32(values, DType.F32, bytes);
        return bytes;
    }

    private static int[] Shape(ICheckpointReader reader, string name) => reader.GetInfo(name).Shape.Select(d => (int)d).ToArray();

    private static long[] RowMajorStrides(long[] shape)
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
}
