using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Sharpformers.Training.Tests.Optimization;

/// <summary>
/// Reads the F32 tensors of a small model.safetensors for the optimizer goldens. A test helper only:
/// the model layer has the real reader; this keeps the optimizer tests independent of it.
/// </summary>
internal static class SafetensorsTestReader
{
    public static Dictionary<string, float[]> ReadFloat32(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            if (entry.Value.GetProperty("dtype").GetString() != "F32") throw new InvalidDataException($"{entry.Name} is not F32");
            var offsets = entry.Value.GetProperty("data_offsets");
            int begin = offsets[0].GetInt32();
            int end = offsets[1].GetInt32();
            tensors[entry.Name] = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(8 + headerLength + begin, end - begin)).ToArray();
        }
        return tensors;
    }
}
