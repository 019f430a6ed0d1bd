using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Nn.Optim;

/// <summary>
/// Reads and writes float32 state tensors (optimizer moments) in the safetensors layout: an 8-byte
/// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw
/// little-endian data. Any safetensors tool can open the files; writes are atomic.
/// </summary>
internal static class StateTensorFile
{
    public static void Write(string path, IReadOnlyList<(string Name, float[] Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is not null) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, data) in tensors)
        {
            long bytes = (long)data.Length * sizeof(float);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = "F32",
                ["shape"] = new[] { (long)data.Length },
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, data) in tensors)
            {
                if (BitConverter.IsLittleEndian)
                {
                    stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
                }
                else
                {
                    var buffer = new byte[4];
                    foreach (float v in data)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(buffer, v);
                        stream.Write(buffer);
                    }
                }
            }
        });
    }

    public static Dictionary<string, float[]> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Optimizer state not found: {path}", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: header length {headerLength} exceeds the file.");
        int dataStart = 8 + (int)headerLength;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                if (dtype != "F32") throw new InvalidDataException($"{path}: tensor '{entry.Name}' is {dtype}; optimizer state is F32.");
                var offsets = entry.Value.GetProperty("data_offsets");
                long begin = offsets[0].GetInt64();
                long end = offsets[1].GetInt64();
                long count = entry.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64());
                if (begin < 0 || end < begin || dataStart + end > bytes.Length || end - begin != count * sizeof(float))
                {
                    throw new InvalidDataException($"{path}: tensor '{entry.Name}' has data offsets [{begin}, {end}] that do not fit its shape or the file.");
                }
                var data = new float[count];
                var source = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
                if (BitConverter.IsLittleEndian)
                {
                    source.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
                }
                else
                {
                    for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }
                result[entry.Name] = data;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message}).", e);
        }
        return result;
    }
}
