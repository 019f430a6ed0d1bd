using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Sharpformers.Tensors.Formats;
using Sharpformers.Tensors.Formats.PyTorch;
using static Sharpformers.Tensors.Tests.PyTorchPaths;

namespace Sharpformers.Tensors.Tests;

/// <summary>
/// Unconverted access (what `sharpformers convert` copies), zero-copy loading of pytorch_model.bin,
/// half-precision conversions and writing tensors of any dtype to safetensors.
/// </summary>
public sealed class RawTensorTests
{
    private readonly string dir = NewTempDir();

    private static byte[] Raw(ICheckpointReader reader, string name)
    {
        var info = reader.Tensors.Single(t => t.Name == name);
        byte[] bytes = new byte[info.ElementCount * info.DType.SizeOf()];
        reader.ReadRaw(name, bytes);
        return bytes;
    }

    private static byte[] Floats(IEnumerable<float> values) => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();

    [Fact]
    public void PyTorchReadRaw_MaterialisesViewsRowMajor_InTheStoredDtype()
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture("views.bin"));

        Assert.Equal(Floats(Enumerable.Range(0, 24).Select(i => (float)((i % 4) * 6 + i / 4))), Raw(reader, "transposed"));
        Assert.Equal(Floats([8f, 9f, 10f, 14f, 15f, 16f]), Raw(reader, "block"));
        Assert.Equal(Floats([4f, 10f, 16f, 22f]), Raw(reader, "column"));
        Assert.Equal(Floats([0f, 1f, 2f, 0f, 1f, 2f]), Raw(reader, "expanded"));
        Assert.Equal(Floats([3.5f]), Raw(reader, "scalar"));
        Assert.Empty(Raw(reader, "empty"));
    }

    [Fact]
    public void PyTorchReadRaw_KeepsEveryDtypeBitForBit()
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture("dtypes.bin"));
        float[] values = [-3.125f, -1.875f, -0.625f, 0.625f, 1.875f, 3.125f];

        byte[] half = new byte[12];
        ElementConversion.FromFloat32(values, DType.F16, half);
        byte[] bf16 = new byte[12];
        ElementConversion.FromFloat32(values, DType.BF16, bf16);
        Assert.Equal(half, Raw(reader, "f16"));
        Assert.Equal(bf16, Raw(reader, "bf16"));
        Assert.Equal(MemoryMarshal.AsBytes(new long[] { -3, -2, -1, 0, 1, 2 }.AsSpan()).ToArray(), Raw(reader, "i64"));
        Assert.Equal(new byte[] { 250, 251, 252, 253, 254, 255 }, Raw(reader, "u8"));
        Assert.Equal(new byte[] { 0, 1, 0, 1, 0, 1 }, Raw(reader, "bool"));
    }

    [Fact]
    public void PyTorchReadRaw_OfABigEndianArchive_IsLittleEndian()
    {
        byte[] storage = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(storage, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(storage.AsSpan(4), -2.25f);
        string path = Path.Combine(dir, "big.bin");
        TorchZipWriter.WriteCheckpoint(path, TorchZipWriter.StateDictPickle([new CraftedTensor("w", "FloatStorage", "0", 2, 0, [2], [1])]),
            new Dictionary<string, byte[]> { ["0"] = storage }, byteOrder: "big");

        using var reader = PyTorchCheckpointReader.Open(path);

        Assert.Equal(Floats([1.5f, -2.25f]), Raw(reader, "w"));
        Assert.False(reader.TryGetFloat32Memory("w", out _));
    }

    [Fact]
    public void PyTorchFloat32Tensors_AreMappedInPlace_UnlessTheirStorageIsShared()
    {
        using (var tiny = PyTorchCheckpointReader.Open(TinyBertBin))
        {
            var expected = MiniSafetensors.ReadF32(TinyBertSafetensors);
            foreach (var info in tiny.Tensors)
            {
                Assert.True(tiny.TryGetFloat32Memory(info.Name, out var memory), info.Name);
                Assert.Equal(expected[info.Name].Data, memory.ToArray());
            }
        }
        using var views = PyTorchCheckpointReader.Open(Fixture("views.bin"));
        // grid, transposed, block, row, column and the ties share one storage: each is copied on read instead.
        Assert.False(views.TryGetFloat32Memory("grid", out _));
        Assert.False(views.TryGetFloat32Memory("tied_a", out _));
        Assert.True(views.TryGetFloat32Memory("scalar", out var scalar));
        Assert.Equal([3.5f], scalar.ToArray());
        using var dtypes = PyTorchCheckpointReader.Open(Fixture("dtypes.bin"));
        Assert.False(dtypes.TryGetFloat32Memory("f16", out _));
    }

    [Fact]
    public void PyTorchInPlaceTensors_AreCopyOnWrite()
    {
        string path = Path.Combine(dir, "copy.bin");
        File.Copy(TinyBertBin, path);
        byte[] before = File.ReadAllBytes(path);
        using (var reader = PyTorchCheckpointReader.Open(path))
        {
            Assert.True(reader.TryGetFloat32Memory("classifier.bias", out var bias));
            bias.Span[0] = 1234f;
            Assert.Equal(1234f, Read(reader, "classifier.bias")[0]);
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(1f, 0x3F80)]
    [InlineData(1f + 1f / 256, 0x3F80)] // a tie between 1 and 1 + 2^-7: to the even mantissa (1)
    [InlineData(1f + 3f / 256, 0x3F82)] // a tie between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up
    [InlineData(1f + 1.5f / 256, 0x3F81)]
    [InlineData(-0f, 0x8000)]
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(3.4028235e38f, 0x7F80)] // float.MaxValue rounds past bfloat16's largest finite value
    public void BFloat16_RoundsToNearestEven(float value, int expectedBits) =>
        Assert.Equal((ushort)expectedBits, ElementConversion.ToBFloat16Bits(value));

    [Fact]
    public void BFloat16_KeepsNaNsNaN_AndWidensBackExactly()
    {
        Assert.True(float.IsNaN(BitConverter.Int32BitsToSingle(ElementConversion.ToBFloat16Bits(float.NaN) << 16)));
        float[] values = [0.1f, -7.3e-5f, 65504f, 1e-40f];
        byte[] bytes = new byte[8];
        ElementConversion.FromFloat32(values, DType.BF16, bytes);
        float[] back = new float[4];
        ElementConversion.ToFloat32(DType.BF16, bytes, back);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(0, BitConverter.SingleToInt32Bits(back[i]) & 0xFFFF);
            // Half an ulp: 2^-8 relative for normal values, 2^-134 absolute among the subnormals.
            Assert.True(Math.Abs(back[i] - values[i]) <= Math.Max(Math.Abs(values[i]) * Math.Pow(2, -8), Math.Pow(2, -134)), $"{values[i]} → {back[i]}");
        }
    }

    [Fact]
    public void SafetensorsWriter_WritesRawTensorsOfAnyDtype_AndTheReaderHandsTheBytesBack()
    {
        float[] values = [0.5f, -1.25f, 3.0f, 1e-3f];
        byte[] half = new byte[8];
        ElementConversion.FromFloat32(values, DType.F16, half);
        byte[] bf16 = new byte[8];
        ElementConversion.FromFloat32(values, DType.BF16, bf16);
        byte[] longs = MemoryMarshal.AsBytes(new long[] { 1, -2, 1L << 40 }.AsSpan()).ToArray();
        string path = Path.Combine(dir, "raw.safetensors");

        SafetensorsWriter.Write(path, new Dictionary<string, ITensor>
        {
            ["h"] = new RawTensor(DType.F16, [2, 2], half),
            ["b"] = new RawTensor(DType.BF16, [4], bf16),
            ["ids"] = new RawTensor(DType.I64, [3], longs),
            ["f"] = Tensor.FromArray(values, 4),
        });

        using var reader = SafetensorsReader.Open(path);
        // As save_file orders them: by dtype, widest first (so each starts aligned to its size), then by name.
        Assert.Equal([("ids", DType.I64), ("f", DType.F32), ("b", DType.BF16), ("h", DType.F16)], reader.Tensors.Select(t => (t.Name, t.DType)));
        Assert.Equal(half, reader.RawBytes("h").ToArray());
        Assert.Equal(bf16, Raw(reader, "b"));
        Assert.Equal(longs, Raw(reader, "ids"));
        Assert.Equal([1f, -2f, (float)(1L << 40)], reader.ReadTensor("ids").ToArray());
        Assert.Equal(values.Select(v => (float)(Half)v), reader.ReadTensor("h").ToArray());
        Assert.False(reader.TryGetFloat32Memory("h", out _));
        Assert.Equal([2, 2], reader.ReadTensor("h").Shape);
    }

    [Fact]
    public void MixedDtypes_AreLaidOutSoEveryTensorIsAlignedToItsElementSize()
    {
        string path = Path.Combine(dir, "mixed.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, ITensor>
        {
            ["a.half"] = new RawTensor(DType.F16, [3], new byte[6]),
            ["b.float"] = Tensor.FromArray([1f, 2f, 3f], 3),
            ["c.byte"] = new RawTensor(DType.U8, [1], new byte[1]),
            ["d.float"] = Tensor.FromArray([4f], 1),
        });

        using var reader = SafetensorsReader.Open(path);
        Assert.Equal(["b.float", "d.float", "a.half", "c.byte"], reader.Tensors.Select(t => t.Name));
        Assert.True(reader.TryGetFloat32Memory("d.float", out var d));
        Assert.Equal([4f], d.ToArray());
    }

    [Fact]
    public void RawTensorFromCheckpoint_CopiesAPyTorchFileToSafetensors_BitForBit()
    {
        string path = Path.Combine(dir, "dtypes.safetensors");
        using var source = PyTorchCheckpointReader.Open(Fixture("dtypes.bin"));

        SafetensorsWriter.Write(path, source.Tensors.Select(t => new KeyValuePair<string, ITensor>(t.Name, RawTensor.FromCheckpoint(source, t.Name))));

        using var copy = SafetensorsReader.Open(path);
        foreach (var info in source.Tensors)
        {
            Assert.Equal(info.DType, copy.GetInfo(info.Name).DType);
            Assert.Equal(info.Shape, copy.GetInfo(info.Name).Shape);
            Assert.Equal(Raw(source, info.Name), copy.RawBytes(info.Name).ToArray());
        }
    }

    [Fact]
    public void RawTensor_ChecksItsByteCount()
    {
        var e = Assert.Throws<ArgumentException>(() => new RawTensor(DType.F16, [3], new byte[4]));
        Assert.StartsWith("A F16 tensor of shape [3] takes 6 bytes, got 4.", e.Message);
    }

    [Fact]
    public void SafetensorsFileThatIsAnLfsPointer_SaysHowToFetchIt()
    {
        string path = Path.Combine(dir, "model.safetensors");
        File.WriteAllText(path, "version https://git-lfs.github.com/spec/v1\noid sha256:abcd\nsize 203604\n");

        var e = Assert.Throws<InvalidDataException>(() => SafetensorsReader.Open(path));

        Assert.Equal(
            $"'{path}' is a Git LFS pointer file, not the file's content (the real file is 203604 bytes, sha256:abcd): the repository was cloned " +
            "without Git LFS. Run `git lfs install && git lfs pull` inside the clone, or download the model with `sharpformers download REPO_ID` instead of git.",
            e.Message);
    }
}

/// <summary>The Hugging Face cache hands out snapshot entries as symlinks to blobs: every reader must follow them.</summary>
public sealed class SymlinkedCheckpointTests
{
    private readonly string dir = NewTempDir();

    private string Link(string target, string name)
    {
        string link = Path.Combine(dir, name);
        File.CreateSymbolicLink(link, target);
        return link;
    }

    [Fact]
    public void SafetensorsAndPyTorchFiles_OpenThroughSymlinks()
    {
        using (var safetensors = SafetensorsReader.Open(Link(TinyBertSafetensors, "model.safetensors")))
        {
            Assert.Equal(MiniSafetensors.ReadF32(TinyBertSafetensors)["classifier.bias"].Data, safetensors.ReadTensor("classifier.bias").ToArray());
        }
        using var bin = PyTorchCheckpointReader.Open(Link(TinyBertBin, "pytorch_model.bin"));
        Assert.Equal(41, bin.Tensors.Count);
    }

    [Fact]
    public void LfsPointerBehindASymlink_IsRecognised_AndALinkedWeightsFileIsNot()
    {
        string pointer = Path.Combine(dir, "blob");
        File.WriteAllText(pointer, "version https://git-lfs.github.com/spec/v1\noid sha256:abcd\nsize 203604\n");

        Assert.True(Utils.LfsPointer.IsPointer(Link(pointer, "pointer.safetensors")));
        Assert.False(Utils.LfsPointer.IsPointer(Link(TinyBertSafetensors, "real.safetensors")));
    }
}
