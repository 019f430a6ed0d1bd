using System.Buffers.Binary;
using Sharpformers.Tensors.Formats.PyTorch;
using static Sharpformers.Tensors.Tests.PyTorchPaths;

namespace Sharpformers.Tensors.Tests;

public sealed class PyTorchCheckpointReaderTests
{
    [Fact]
    public void TinyBertBin_EveryTensorEqualsTheSafetensorsTensor_BitForBit()
    {
        var expected = MiniSafetensors.ReadF32(TinyBertSafetensors);
        using var reader = PyTorchCheckpointReader.Open(TinyBertBin);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), reader.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var info in reader.Tensors)
        {
            var (shape, data) = expected[info.Name];
            Assert.Equal(DType.F32, info.DType);
            Assert.Equal(shape, info.Shape);
            float[] actual = Read(reader, info.Name);
            Assert.Equal(data.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(41, reader.Tensors.Count);
    }

    [Fact]
    public void TinyBertBin_ListsTensorsInStateDictOrder()
    {
        using var reader = PyTorchCheckpointReader.Open(TinyBertBin);

        Assert.Equal("bert.embeddings.word_embeddings.weight", reader.Tensors[0].Name);
        Assert.Equal([1028L, 32L], reader.Tensors[0].Shape);
        Assert.Equal("classifier.bias", reader.Tensors[^1].Name);
        Assert.Equal([3L], reader.Tensors[^1].Shape);
        Assert.True(reader.Contains("bert.pooler.dense.weight"));
        Assert.False(reader.Contains("bert.pooler.dense.missing"));
        Assert.False(reader.IsBigEndian);
    }

    [Theory]
    [InlineData("dtypes.bin")]
    [InlineData("protocol4.bin")]
    public void EveryElementType_ReadsAsFloat32(string file)
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture(file));

        float[] halves = [-3.125f, -1.875f, -0.625f, 0.625f, 1.875f, 3.125f];
        var expectedTypes = new Dictionary<string, DType>
        {
            ["f32"] = DType.F32, ["f16"] = DType.F16, ["bf16"] = DType.BF16, ["f64"] = DType.F64, ["i64"] = DType.I64,
            ["i32"] = DType.I32, ["i16"] = DType.I16, ["i8"] = DType.I8, ["u8"] = DType.U8, ["bool"] = DType.Bool,
        };
        Assert.Equal(expectedTypes, reader.Tensors.ToDictionary(t => t.Name, t => t.DType));
        foreach (string name in new[] { "f32", "f16", "bf16", "f64" }) Assert.Equal(halves, Read(reader, name));
        foreach (string name in new[] { "i64", "i32", "i16", "i8" }) Assert.Equal([-3f, -2f, -1f, 0f, 1f, 2f], Read(reader, name));
        Assert.Equal([250f, 251f, 252f, 253f, 254f, 255f], Read(reader, "u8"));
        Assert.Equal([0f, 1f, 0f, 1f, 0f, 1f], Read(reader, "bool"));
        Assert.All(reader.Tensors, t => Assert.Equal([2L, 3L], t.Shape));
    }

    [Fact]
    public void Views_SharedStoragesAndTies_AreMaterialisedRowMajor()
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture("views.bin"));
        float[] grid = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();

        Assert.Equal(grid, Read(reader, "grid"));
        Assert.Equal([6L, 4L], reader.Tensors.Single(t => t.Name == "transposed").Shape);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)((i % 4) * 6 + i / 4)), Read(reader, "transposed"));
        Assert.Equal([8f, 9f, 10f, 14f, 15f, 16f], Read(reader, "block"));
        Assert.Equal([12f, 13f, 14f, 15f, 16f, 17f], Read(reader, "row"));
        Assert.Equal([4f, 10f, 16f, 22f], Read(reader, "column"));
        Assert.Equal([0f, 1f, 2f, 0f, 1f, 2f], Read(reader, "expanded"));
        Assert.Equal([3.5f], Read(reader, "scalar"));
        Assert.Empty(reader.Tensors.Single(t => t.Name == "scalar").Shape);
        Assert.Equal(grid, Read(reader, "tied_a"));
        Assert.Equal(grid, Read(reader, "tied_b"));
        Assert.Equal(reader.StorageKeyOf("grid"), reader.StorageKeyOf("tied_b"));
        Assert.Equal(reader.StorageKeyOf("grid"), reader.StorageKeyOf("transposed"));
        Assert.Empty(Read(reader, "empty"));
        Assert.Equal([0L, 4L], reader.Tensors.Single(t => t.Name == "empty").Shape);
    }

    [Theory]
    [InlineData("state_dict.bin")]
    [InlineData("parameters.bin")]
    public void ModuleStateDictsAndParameters_Load(string file)
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture(file));

        Assert.Equal([0f, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f], Read(reader, "weight"));
        Assert.Equal([-1f, 1f], Read(reader, "bias"));
    }

    [Fact]
    public void HalfAndBFloat16CopiesOfTinyBert_MatchFp32WithinTheirPrecision()
    {
        var fp32 = MiniSafetensors.ReadF32(TinyBertSafetensors);
        string dir = NewTempDir();
        foreach (var (storageType, tolerance) in new[] { ("HalfStorage", Math.Pow(2, -11)), ("BFloat16Storage", Math.Pow(2, -8)) })
        {
            var tensors = new List<CraftedTensor>();
            var storages = new Dictionary<string, byte[]>();
            foreach (var (name, (shape, data)) in fp32)
            {
                string key = storages.Count.ToString();
                storages[key] = storageType == "HalfStorage" ? ToHalfBytes(data) : ToBFloat16Bytes(data);
                tensors.Add(new CraftedTensor(name, storageType, key, data.Length, 0, shape, RowMajorStrides(shape)));
            }
            string path = Path.Combine(dir, storageType + ".bin");
            TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle(tensors), storages);

            using var reader = PyTorchCheckpointReader.Open(path);
            foreach (var (name, (_, data)) in fp32)
            {
                float[] actual = Read(reader, name);
                for (int i = 0; i < data.Length; i++)
                {
                    // Round-to-nearest: within half an ulp of the format, relative to the value.
                    Assert.True(Math.Abs(actual[i] - data[i]) <= tolerance * Math.Abs(data[i]) + 1e-7,
                        $"{storageType} {name}[{i}]: {actual[i]} vs {data[i]}");
                }
            }
        }
    }

    [Fact]
    public void BigEndianArchives_AreByteSwapped()
    {
        string dir = NewTempDir();
        float[] values = [1.5f, -2.25f, 1e-3f];
        byte[] storage = new byte[12];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleBigEndian(storage.AsSpan(i * 4), values[i]);
        byte[] longs = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(longs, -7);
        BinaryPrimitives.WriteInt64BigEndian(longs.AsSpan(8), 1L << 40);
        string path = Path.Combine(dir, "big.bin");
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle(
        [
            new CraftedTensor("w", "FloatStorage", "0", 3, 0, [3], [1]),
            new CraftedTensor("ids", "LongStorage", "1", 2, 0, [2], [1]),
        ]), new Dictionary<string, byte[]> { ["0"] = storage, ["1"] = longs }, byteOrder: "big");

        using var reader = PyTorchCheckpointReader.Open(path);

        Assert.True(reader.IsBigEndian);
        Assert.Equal(values, Read(reader, "w"));
        Assert.Equal([-7f, (float)(1L << 40)], Read(reader, "ids"));
    }

    [Fact]
    public void DeflatedAndZip64Archives_AreRead()
    {
        string dir = NewTempDir();
        float[] values = [0.5f, 1.5f, 2.5f, 3.5f];
        byte[] storage = new byte[16];
        Buffer.BlockCopy(values, 0, storage, 0, 16);
        byte[] pickle = TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 4, 0, [2, 2], [2, 1])]);
        foreach (var (deflate, zip64) in new[] { (true, false), (false, true) })
        {
            string path = Path.Combine(dir, $"d{deflate}-z{zip64}.bin");
            TorchZipWriter.WriteCheckpoint(path, pickle, new Dictionary<string, byte[]> { ["0"] = storage }, deflate: deflate, zip64: zip64);

            using var reader = PyTorchCheckpointReader.Open(path);

            Assert.Equal(values, Read(reader, "w"));
        }
    }

    [Fact]
    public void ReadAsFloat32_ChecksNameAndDestinationLength()
    {
        using var reader = PyTorchCheckpointReader.Open(TinyBertBin);

        var missing = Assert.Throws<KeyNotFoundException>(() => reader.ReadAsFloat32("nope", new float[1]));
        Assert.Equal($"'{TinyBertBin}' has no tensor named 'nope'.", missing.Message);
        var wrong = Assert.Throws<ArgumentException>(() => reader.ReadAsFloat32("classifier.bias", new float[4]));
        Assert.StartsWith($"Tensor 'classifier.bias' of '{TinyBertBin}' has 3 elements but the destination has 4.", wrong.Message);
    }

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

    private static byte[] ToHalfBytes(float[] data)
    {
        byte[] bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)data[i]);
        return bytes;
    }

    private static byte[] ToBFloat16Bytes(float[] data)
    {
        byte[] bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++)
        {
            // Round to nearest even, as torch's .to(torch.bfloat16) does.
            uint bits = BitConverter.SingleToUInt32Bits(data[i]);
            uint rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)rounded);
        }
        return bytes;
    }
}
