using System.Globalization;
using System.Text.Json;
using Sharpformers.Tensors.Storage;
using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats;

/// <summary>
/// Reads a <c>model.safetensors</c> file: an 8-byte little-endian header length, a JSON header
/// (per tensor: dtype, shape, data_offsets relative to the data section; optional
/// <c>__metadata__</c> of strings), then the tensors' bytes. The file is memory-mapped, and float32
/// tensors are handed out without copying. Everything in the header is checked before any tensor is
/// exposed: sizes, offsets (in range, ordered, neither overlapping nor leaving gaps), dtypes, and that
/// each shape times its dtype's size equals its byte count.
/// </summary>
public sealed class SafetensorsReader : ICheckpointReader
{
    /// <summary>The largest header the reference implementation accepts.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MappedFile file;
    private readonly long dataStart;
    private readonly Dictionary<string, Entry> entries;
    private readonly List<TensorInfo> tensors;

    private SafetensorsReader(string path, MappedFile file, long dataStart, List<Entry> ordered, Dictionary<string, string> metadata)
    {
        SourcePath = path;
        this.file = file;
        this.dataStart = dataStart;
        entries = ordered.ToDictionary(e => e.Info.Name, StringComparer.Ordinal);
        tensors = ordered.Select(e => e.Info).ToList();
        Metadata = metadata;
    }

    public string SourcePath { get; }

    public IReadOnlyList<TensorInfo> Tensors => tensors;

    /// <summary>The header's <c>__metadata__</c> (e.g. {"format": "pt"}); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsReader Open(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"Safetensors file '{fullPath}' was not found.", fullPath);
        LfsPointer.ThrowIfPointer(fullPath);
        long length;
        // Through a symlink (the Hugging Face cache's snapshots) FileInfo.Length is the link's size: ask the opened file.
        using (var handle = File.OpenHandle(fullPath)) length = RandomAccess.GetLength(handle);
        if (length < 8)
        {
            throw Invalid(fullPath, $"the file is truncated: it has {length} bytes, but a safetensors file starts with an 8-byte header length");
        }
        var file = MappedFile.Open(fullPath);
        try
        {
            ulong headerLength = BitConverter.ToUInt64(LittleEndian(file.Bytes(0, 8)));
            if (headerLength > (ulong)(length - 8))
            {
                throw Invalid(fullPath, $"the header length field says {headerLength} bytes, but the file has only {length - 8} bytes after it (truncated or not a safetensors file)");
            }
            if ((long)headerLength > MaxHeaderBytes)
            {
                throw Invalid(fullPath, $"the header is {headerLength} bytes, above the {MaxHeaderBytes}-byte limit");
            }
            long dataStart = 8 + (long)headerLength;
            var (ordered, metadata) = ParseHeader(fullPath, file.Bytes(8, (int)headerLength), length - dataStart);
            return new SafetensorsReader(fullPath, file, dataStart, ordered, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => entries.ContainsKey(name);

    public void ReadAsFloat32(string name, Span<float> destination)
    {
        var entry = Find(name);
        if (destination.Length != entry.Info.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has {entry.Info.ElementCount} elements, the destination {destination.Length}.", nameof(destination));
        }
        ElementConversion.ToFloat32(entry.Info.DType, file.Bytes(dataStart + entry.Begin, checked((int)(entry.End - entry.Begin))), destination);
    }

    public bool TryGetFloat32Memory(string name, out Memory<float> memory)
    {
        var entry = Find(name);
        long offset = dataStart + entry.Begin;
        if (entry.Info.DType != DType.F32 || !BitConverter.IsLittleEndian || offset % sizeof(float) != 0 || entry.Info.ElementCount > int.MaxValue)
        {
            memory = default;
            return false;
        }
        memory = file.Float32(offset, (int)entry.Info.ElementCount);
        return true;
    }

    public void ReadRaw(string name, Span<byte> destination)
    {
        var bytes = RawBytes(name);
        if (destination.Length != bytes.Length)
        {
            throw new ArgumentException($"Tensor '{name}' of '{SourcePath}' has {bytes.Length} bytes, the destination {destination.Length}.", nameof(destination));
        }
        bytes.CopyTo(destination);
    }

    /// <summary>The raw little-endian bytes of a tensor (any dtype), valid until the reader is disposed.</summary>
    public ReadOnlySpan<byte> RawBytes(string name)
    {
        var entry = Find(name);
        return file.Bytes(dataStart + entry.Begin, checked((int)(entry.End - entry.Begin)));
    }

    public void Dispose() => file.Dispose();

    private Entry Find(string name) =>
        entries.TryGetValue(name, out var entry) ? entry : throw new KeyNotFoundException($"'{SourcePath}' has no tensor named '{name}'.");

    private static byte[] LittleEndian(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        if (!BitConverter.IsLittleEndian) Array.Reverse(copy);
        return copy;
    }

    private static (List<Entry>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
            // Only padding may follow the object.
            foreach (byte b in header[(int)reader.BytesConsumed..])
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0))
                {
                    throw Invalid(path, $"the header has bytes after its JSON object (at offset {8 + reader.BytesConsumed})");
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Invalid safetensors file '{path}': the header is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(path, $"the header must be a JSON object, not {root.ValueKind}");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var list = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Invalid(path, $"the header lists '{property.Name}' twice");
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                list.Add(ReadEntry(path, property.Name, property.Value));
            }
            CheckLayout(path, list, dataLength);
            return (list, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, "'__metadata__' must be an object of string values");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(path, $"'__metadata__' entry '{item.Name}' must be a string, not {item.Value.ValueKind}");
            }
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"tensor '{name}' must be described by an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Invalid(path, $"tensor '{name}' needs a string 'dtype'");
        }
        string dtypeName = dtypeElement.GetString()!;
        if (!DTypeInfo.TryParseSafetensorsName(dtypeName, out var dtype))
        {
            string known = string.Join(", ", Enum.GetValues<DType>().Select(d => d.SafetensorsName()));
            throw Invalid(path, $"tensor '{name}' has unknown dtype '{dtypeName}' (supported: {known})");
        }
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, $"tensor '{name}' needs a 'shape' array");
        }
        var shape = new List<long>();
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0)
            {
                throw Invalid(path, $"tensor '{name}' has shape {shapeElement.GetRawText()}; dimensions must be non-negative integers");
            }
            shape.Add(size);
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < 0)
        {
            throw Invalid(path, $"tensor '{name}' needs 'data_offsets' as [begin, end] with non-negative integers");
        }
        if (end < begin)
        {
            throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}]: the end comes before the begin");
        }
        long expectedBytes;
        try
        {
            expectedBytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.SizeOf());
        }
        catch (OverflowException)
        {
            throw Invalid(path, $"tensor '{name}' has shape {Shape(shape)}, too large to address");
        }
        if (expectedBytes != end - begin)
        {
            throw Invalid(path, $"tensor '{name}' has shape {Shape(shape)} and dtype {dtypeName}, which is {expectedBytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin} bytes");
        }
        return new Entry(new TensorInfo(name, dtype, shape), begin, end);
    }

    private static void CheckLayout(string path, List<Entry> list, long dataLength)
    {
        list.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        Entry? previous = null;
        foreach (var e in list)
        {
            if (e.End > dataLength)
            {
                throw Invalid(path, $"tensor '{e.Info.Name}' has data_offsets [{e.Begin}, {e.End}] beyond the end of the data ({dataLength} bytes after the header)");
            }
            if (e.Begin < position)
            {
                throw Invalid(path, $"tensors '{previous!.Info.Name}' [{previous.Begin}, {previous.End}] and '{e.Info.Name}' [{e.Begin}, {e.End}] overlap");
            }
            if (e.Begin > position)
            {
                throw Invalid(path, $"bytes [{position}, {e.Begin}) of the data belong to no tensor (before '{e.Info.Name}'); offsets must be contiguous");
            }
            position = e.End;
            previous = e;
        }
        if (position != dataLength)
        {
            throw Invalid(path, $"the data section has {dataLength} bytes but the tensors cover only {position} (truncated header or trailing bytes)");
        }
    }

    private static string Shape(List<long> shape) => "[" + string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + "]";

    private static InvalidDataException Invalid(string path, string what) => new($"Invalid safetensors file '{path}': {what}.");

    private sealed record Entry(TensorInfo Info, long Begin, long End);
}
