using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Sharpformers.TestSupport;

namespace Sharpformers.Tensors.Tests;

/// <summary>Builds pickles opcode by opcode, the way the tests craft hostile or broken checkpoints.</summary>
public sealed class PickleBuilder
{
    private readonly List<byte> bytes = [];

    public PickleBuilder Op(params byte[] opcodes)
    {
        bytes.AddRange(opcodes);
        return this;
    }

    public PickleBuilder Proto(byte version = 2) => Op(0x80, version);

    public PickleBuilder Text(string line) => Op(Encoding.Latin1.GetBytes(line + "\n"));

    /// <summary>GLOBAL 'module name' (protocol 2 spelling).</summary>
    public PickleBuilder Global(string module, string name) => Op((byte)'c').Text(module).Text(name);

    /// <summary>BINUNICODE.</summary>
    public PickleBuilder Str(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        Op((byte)'X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        return Op(length.ToArray()).Op(utf8);
    }

    /// <summary>An integer with the smallest torch-style opcode (BININT1/BININT2/BININT/LONG1).</summary>
    public PickleBuilder Int(long value)
    {
        if (value is >= 0 and < 256) return Op((byte)'K', (byte)value);
        if (value is >= 0 and < 65536) return Op((byte)'M', (byte)value, (byte)(value >> 8));
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            byte[] b = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
            return Op((byte)'J').Op(b);
        }
        byte[] l = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(l, value);
        return Op(0x8A, 8).Op(l);
    }

    public PickleBuilder Mark() => Op((byte)'(');

    public PickleBuilder Tuple() => Op((byte)'t');

    public PickleBuilder EmptyTuple() => Op((byte)')');

    public PickleBuilder Reduce() => Op((byte)'R');

    public PickleBuilder Stop() => Op((byte)'.');

    public PickleBuilder IntTuple(long[] values)
    {
        Mark();
        foreach (long v in values) Int(v);
        return Tuple();
    }

    /// <summary>
    /// torch._utils._rebuild_tensor_v2(storage pid, offset, size, stride, False, OrderedDict()) exactly as
    /// torch.save pickles one tensor.
    /// </summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Tuple().Op((byte)'Q');
        Int(offset).IntTuple(size).IntTuple(stride).Op(0x89).Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return Tuple().Reduce();
    }

    public byte[] ToArray() => bytes.ToArray();
}

/// <summary>One tensor of a crafted checkpoint.</summary>
public sealed record CraftedTensor(string Name, string StorageType, string Key, long Numel, long Offset, long[] Size, long[] Stride);

/// <summary>Writes torch-style zip archives (and broken variants of them) for the tests.</summary>
public static class TorchZipWriter
{
    /// <summary>A state-dict pickle as torch.save writes it: EMPTY_DICT, MARK, name/tensor pairs, SETITEMS, STOP.</summary>
    public static byte[] StateDictPickle(IEnumerable<CraftedTensor> tensors)
    {
        var p = new PickleBuilder().Proto().Op((byte)'}').Mark();
        foreach (var t in tensors) p.Str(t.Name).Tensor(t.StorageType, t.Key, t.Numel, t.Offset, t.Size, t.Stride);
        return p.Op((byte)'u').Stop().ToArray();
    }

    /// <summary>Writes the members (name → bytes) as a zip; torch puts them under "&lt;archive&gt;/".</summary>
    public static void Write(string path, IReadOnlyList<(string Name, byte[] Data)> members, bool deflate = false, bool zip64 = false)
    {
        using var stream = File.Create(path);
        var central = new MemoryStream();
        int count = 0;
        foreach (var (name, data) in members)
        {
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] stored = deflate ? Deflate(data) : data;
            uint crc = Crc32(data);
            long offset = stream.Position;
            var local = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            local.Write(0x04034b50u);
            local.Write((ushort)20);
            local.Write((ushort)0);
            local.Write((ushort)(deflate ? 8 : 0));
            local.Write(0u);
            local.Write(crc);
            local.Write((uint)stored.Length);
            local.Write((uint)data.Length);
            local.Write((ushort)nameBytes.Length);
            local.Write((ushort)0);
            local.Write(nameBytes);
            local.Write(stored);
            local.Flush();

            var c = new BinaryWriter(central, Encoding.UTF8, leaveOpen: true);
            c.Write(0x02014b50u);
            c.Write((ushort)45);
            c.Write((ushort)20);
            c.Write((ushort)0);
            c.Write((ushort)(deflate ? 8 : 0));
            c.Write(0u);
            c.Write(crc);
            c.Write((uint)stored.Length);
            c.Write((uint)data.Length);
            c.Write((ushort)nameBytes.Length);
            c.Write((ushort)(zip64 ? 12 : 0));
            c.Write((ushort)0);
            c.Write((ushort)0);
            c.Write((ushort)0);
            c.Write(0u);
            c.Write(zip64 ? 0xFFFFFFFFu : (uint)offset);
            c.Write(nameBytes);
            if (zip64)
            {
                c.Write((ushort)1);
                c.Write((ushort)8);
                c.Write((ulong)offset);
            }
            c.Flush();
            count++;
        }
        long directoryOffset = stream.Position;
        central.Position = 0;
        central.CopyTo(stream);
        long directorySize = central.Length;
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        if (zip64)
        {
            long recordOffset = stream.Position;
            w.Write(0x06064b50u);
            w.Write(44UL);
            w.Write((ushort)45);
            w.Write((ushort)45);
            w.Write(0u);
            w.Write(0u);
            w.Write((ulong)count);
            w.Write((ulong)count);
            w.Write((ulong)directorySize);
            w.Write((ulong)directoryOffset);
            w.Write(0x07064b50u);
            w.Write(0u);
            w.Write((ulong)recordOffset);
            w.Write(1u);
        }
        w.Write(0x06054b50u);
        w.Write((ushort)0);
        w.Write((ushort)0);
        w.Write((ushort)(zip64 ? 0xFFFF : count));
        w.Write((ushort)(zip64 ? 0xFFFF : count));
        w.Write(zip64 ? 0xFFFFFFFFu : (uint)directorySize);
        w.Write(zip64 ? 0xFFFFFFFFu : (uint)directoryOffset);
        w.Write((ushort)0);
        w.Flush();
    }

    /// <summary>A torch checkpoint: archive/data.pkl, archive/data/&lt;key&gt;, archive/version (+ byteorder).</summary>
    public static void WriteCheckpoint(string path, byte[] pickle, IReadOnlyDictionary<string, byte[]> storages, string? byteOrder = null,
        bool deflate = false, bool zip64 = false, string archive = "archive")
    {
        var members = new List<(string, byte[])> { ($"{archive}/data.pkl", pickle) };
        if (byteOrder is not null) members.Add(($"{archive}/byteorder", Encoding.ASCII.GetBytes(byteOrder)));
        members.AddRange(storages.Select(s => ($"{archive}/data/{s.Key}", s.Value)));
        members.Add(($"{archive}/version", "3\n"u8.ToArray()));
        Write(path, members, deflate, zip64);
    }

    private static byte[] Deflate(byte[] data)
    {
        var output = new MemoryStream();
        using (var deflater = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true)) deflater.Write(data);
        return output.ToArray();
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}

/// <summary>
/// Just enough of safetensors to read the fixture's float32 tensors for comparisons (the engine's
/// reader is another branch; this keeps these tests independent of it).
/// </summary>
public static class MiniSafetensors
{
    public static Dictionary<string, (long[] Shape, float[] Data)> ReadF32(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var result = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        foreach (var tensor in header.RootElement.EnumerateObject())
        {
            if (tensor.Name == "__metadata__") continue;
            Assert.Equal("F32", tensor.Value.GetProperty("dtype").GetString());
            long[] shape = tensor.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int start = (int)(8 + headerLength + offsets[0]);
            float[] data = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(file, start, data, 0, data.Length * 4);
            result[tensor.Name] = (shape, data);
        }
        return result;
    }
}

/// <summary>Paths of the test data.</summary>
public static class PyTorchPaths
{
    public static string Fixture(string name) => Path.Combine(Fixtures.RepoRoot, "tests", "Sharpformers.Tensors.Tests", "PyTorchFixtures", name);

    public static string TinyBertBin => Path.Combine(Fixtures.Model("tiny-bert-bin"), "pytorch_model.bin");

    public static string TinyBertSafetensors => Path.Combine(Fixtures.Model("tiny-bert"), "model.safetensors");

    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpformers-pytorch-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static float[] Read(Formats.ICheckpointReader reader, string name)
    {
        var info = reader.Tensors.Single(t => t.Name == name);
        float[] values = new float[info.ElementCount];
        reader.ReadAsFloat32(name, values);
        return values;
    }
}
