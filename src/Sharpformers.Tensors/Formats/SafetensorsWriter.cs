using System.Text.Json;
using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// Writes <c>model.safetensors</c> the way Hugging Face's <c>save_file</c> does: tensors ordered by
/// dtype (widest first, in the Rust crate's dtype order) then name, contiguous, the header padded with
/// spaces to a multiple of 8 bytes, so every tensor starts aligned to its element size, and
/// <c>__metadata__</c> (HF's <c>{"format": "pt"}</c> by default, which <c>transformers</c> requires).
/// A float32 checkpoint converted from tiny-bert-bin's pytorch_model.bin is byte-identical to the
/// model.safetensors transformers wrote. Files are written atomically.
/// </summary>
public static class SafetensorsWriter
{
    public static readonly IReadOnlyDictionary<string, string> PyTorchMetadata = new Dictionary<string, string> { ["format"] = "pt" };

    /// <summary>
    /// Writes float32 (<see cref="Tensor"/>), int32 (<see cref="IntTensor"/>) and tensors of any dtype
    /// given as bytes (<see cref="RawTensor"/>) to <paramref name="path"/>, atomically.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, ITensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = Prepare(tensors);
        AtomicFile.Write(path, stream => WriteTo(stream, list, metadata ?? PyTorchMetadata));
    }

    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => new KeyValuePair<string, ITensor>(t.Key, t.Value)), metadata);

    /// <summary>Writes to a stream (not atomic by itself).</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, ITensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteTo(stream, Prepare(tensors), metadata ?? PyTorchMetadata);

    private static List<KeyValuePair<string, ITensor>> Prepare(IEnumerable<KeyValuePair<string, ITensor>> tensors)
    {
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
            if (tensor is not (Tensor or IntTensor or RawTensor))
            {
                throw new NotSupportedException($"Tensor '{name}' is a {tensor.GetType().Name}; only Tensor, IntTensor and RawTensor can be saved.");
            }
        }
        list.Sort((a, b) =>
        {
            int byDtype = RustOrder(b.Value.DType).CompareTo(RustOrder(a.Value.DType));
            return byDtype != 0 ? byDtype : string.CompareOrdinal(a.Key, b.Key);
        });
        return list;
    }

    /// <summary>
    /// The position of a dtype in the safetensors crate's <c>Dtype</c> enum (BOOL, U8, I8, F8_E5M2, F8_E4M3,
    /// I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64), which <c>save_file</c> sorts by, descending.
    /// </summary>
    private static int RustOrder(DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.U8 => 1,
        DType.I8 => 2,
        DType.I16 => 5,
        DType.F16 => 7,
        DType.BF16 => 8,
        DType.I32 => 9,
        DType.F32 => 11,
        DType.F64 => 12,
        DType.I64 => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    private static void WriteTo(Stream stream, List<KeyValuePair<string, ITensor>> list, IReadOnlyDictionary<string, string> metadata)
    {
        var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                long bytes = (long)tensor.Length * tensor.DType.SizeOf();
                json.WriteStartObject(name);
                json.WriteString("dtype", tensor.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - headerBuffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) headerBuffer.WriteByte((byte)' ');
        Span<byte> lengthBytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerBuffer.Length);
        stream.Write(lengthBytes);
        headerBuffer.Position = 0;
        headerBuffer.CopyTo(stream);
        foreach (var (_, tensor) in list)
        {
            switch (tensor)
            {
                case Tensor f:
                    WriteLittleEndian(stream, f.Span);
                    break;
                case IntTensor n:
                    WriteLittleEndian(stream, n.Span);
                    break;
                case RawTensor raw:
                    raw.WriteTo(stream);
                    break;
            }
        }
    }

    private static void WriteLittleEndian<T>(Stream stream, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            // Chunked so a multi-gigabyte tensor never needs one giant write call.
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);
            const int chunk = 1 << 24;
            for (int i = 0; i < bytes.Length; i += chunk) stream.Write(bytes.Slice(i, Math.Min(chunk, bytes.Length - i)));
            return;
        }
        throw new PlatformNotSupportedException("Writing safetensors on a big-endian machine is not supported.");
    }
}
