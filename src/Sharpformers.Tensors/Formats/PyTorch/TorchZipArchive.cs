using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Sharpformers.Tensors.Storage;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>One member of a zip archive: where its bytes are and how they are stored.</summary>
internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, long DataOffset);

/// <summary>
/// The zip container of torch &gt;= 1.6 checkpoints, read from its central directory (ZIP64
/// included, for checkpoints over 4 GB). torch writes every member "stored" (method 0) and 64-byte
/// aligned, so member data is used in place from the memory map; deflated members (a re-zipped
/// file) are inflated into memory.
/// </summary>
internal sealed class TorchZipArchive
{
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint LocalHeaderSignature = 0x04034b50;

    private readonly MappedFile file;
    private readonly Dictionary<string, ZipEntry> entries;

    private TorchZipArchive(MappedFile file, Dictionary<string, ZipEntry> entries)
    {
        this.file = file;
        this.entries = entries;
    }

    public IReadOnlyCollection<ZipEntry> Entries => entries.Values;

    public bool TryGetEntry(string name, out ZipEntry entry) => entries.TryGetValue(name, out entry!);

    /// <summary>Parses the central directory; throws InvalidDataException naming the damage.</summary>
    public static TorchZipArchive Open(MappedFile file)
    {
        long eocd = FindEndOfCentralDirectory(file);
        var tail = file.Bytes(eocd, 22);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(tail[10..]);
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(tail[12..]);
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail[16..]);
        if (count == 0xFFFF || directorySize == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF)
        {
            (count, directorySize, directoryOffset) = ReadZip64End(file, eocd);
        }
        if (!file.Contains(directoryOffset, directorySize))
        {
            throw Damaged(file, $"its central directory ({directorySize} bytes at offset {directoryOffset}) lies outside the {file.Length}-byte file");
        }

        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        long position = directoryOffset;
        for (long i = 0; i < count; i++)
        {
            if (!file.Contains(position, 46) || BinaryPrimitives.ReadUInt32LittleEndian(file.Bytes(position, 4)) != CentralHeaderSignature)
            {
                throw Damaged(file, $"central directory entry {i} of {count} (offset {position}) is not a valid entry header");
            }
            var header = file.Bytes(position, 46);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
            if (!file.Contains(position + 46, (long)nameLength + extraLength + commentLength))
            {
                throw Damaged(file, $"central directory entry {i} (offset {position}) runs past the end of the file");
            }
            string name = Encoding.UTF8.GetString(file.Bytes(position + 46, nameLength));
            ReadZip64Extra(file.Bytes(position + 46 + nameLength, extraLength), ref size, ref compressed, ref localOffset);
            long dataOffset = LocalDataOffset(file, name, localOffset);
            long stored = method == 0 ? size : compressed;
            if (!file.Contains(dataOffset, stored))
            {
                throw Damaged(file, $"the data of '{name}' ({stored} bytes at offset {dataOffset}) lies outside the {file.Length}-byte file");
            }
            entries[name] = new ZipEntry(name, method, compressed, size, dataOffset);
            position += 46 + nameLength + extraLength + commentLength;
        }
        return new TorchZipArchive(file, entries);
    }

    /// <summary>The bytes of an entry: in place when stored, inflated when deflated.</summary>
    public ReadOnlyMemory<byte> ReadAll(ZipEntry entry)
    {
        if (entry.Size > int.MaxValue) throw new InvalidDataException($"'{file.Path}': the member '{entry.Name}' is too large ({entry.Size} bytes) to read at once.");
        return entry.Method switch
        {
            0 => file.Bytes(entry.DataOffset, (int)entry.Size).ToArray(),
            8 => Inflate(entry),
            _ => throw Unsupported(entry),
        };
    }

    /// <summary>Where a member's data can be read in place, or an inflated copy for deflated members.</summary>
    public StorageBytes OpenStorage(ZipEntry entry) => entry.Method switch
    {
        0 => StorageBytes.InPlace(file, entry.DataOffset, entry.Size),
        8 => StorageBytes.Copied(Inflate(entry)),
        _ => throw Unsupported(entry),
    };

    private byte[] Inflate(ZipEntry entry)
    {
        if (entry.Size > Array.MaxLength) throw new InvalidDataException($"'{file.Path}': the compressed member '{entry.Name}' is too large to inflate ({entry.Size} bytes).");
        byte[] output = new byte[entry.Size];
        unsafe
        {
            using var compressed = new UnmanagedMemoryStream(file.At(entry.DataOffset), entry.CompressedSize);
            using var inflater = new DeflateStream(compressed, CompressionMode.Decompress);
            try
            {
                inflater.ReadExactly(output);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw Damaged(file, $"the compressed member '{entry.Name}' does not inflate to its {entry.Size} bytes ({e.Message})");
            }
        }
        return output;
    }

    private InvalidDataException Unsupported(ZipEntry entry) =>
        new($"'{file.Path}': the zip member '{entry.Name}' uses compression method {entry.Method}; only stored (0) and deflated (8) members are supported.");

    private static long FindEndOfCentralDirectory(MappedFile file)
    {
        if (file.Length < 22) throw Damaged(file, $"it is {file.Length} bytes long, shorter than the smallest zip archive (22 bytes)");
        long lowest = Math.Max(0, file.Length - 22 - ushort.MaxValue);
        for (long position = file.Length - 22; position >= lowest; position--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.Bytes(position, 4)) == EndOfCentralDirectorySignature) return position;
        }
        throw Damaged(file, "its end-of-central-directory record is missing (the file is cut short or is not a zip)");
    }

    private static (long Count, long Size, long Offset) ReadZip64End(MappedFile file, long eocd)
    {
        long locator = eocd - 20;
        if (locator < 0 || BinaryPrimitives.ReadUInt32LittleEndian(file.Bytes(locator, 4)) != Zip64LocatorSignature)
        {
            throw Damaged(file, "it announces a ZIP64 central directory but has no ZIP64 locator");
        }
        long recordOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.Bytes(locator + 8, 8));
        if (!file.Contains(recordOffset, 56) || BinaryPrimitives.ReadUInt32LittleEndian(file.Bytes(recordOffset, 4)) != Zip64EndSignature)
        {
            throw Damaged(file, $"its ZIP64 end-of-central-directory record (offset {recordOffset}) is missing");
        }
        var record = file.Bytes(recordOffset, 56);
        return ((long)BinaryPrimitives.ReadUInt64LittleEndian(record[32..]),
                (long)BinaryPrimitives.ReadUInt64LittleEndian(record[40..]),
                (long)BinaryPrimitives.ReadUInt64LittleEndian(record[48..]));
    }

    private static void ReadZip64Extra(ReadOnlySpan<byte> extra, ref long size, ref long compressed, ref long localOffset)
    {
        while (extra.Length >= 4)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4) return;
            var data = extra.Slice(4, length);
            if (id == 0x0001)
            {
                // Only the fields whose 32-bit value overflowed are present, in this order.
                int at = 0;
                if (size == 0xFFFFFFFF && at + 8 <= data.Length) { size = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]); at += 8; }
                if (compressed == 0xFFFFFFFF && at + 8 <= data.Length) { compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]); at += 8; }
                if (localOffset == 0xFFFFFFFF && at + 8 <= data.Length) localOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
                return;
            }
            extra = extra[(4 + length)..];
        }
    }

    private static long LocalDataOffset(MappedFile file, string name, long localOffset)
    {
        if (!file.Contains(localOffset, 30) || BinaryPrimitives.ReadUInt32LittleEndian(file.Bytes(localOffset, 4)) != LocalHeaderSignature)
        {
            throw Damaged(file, $"the local header of '{name}' (offset {localOffset}) is missing");
        }
        var header = file.Bytes(localOffset, 30);
        return localOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
    }

    internal static InvalidDataException Damaged(MappedFile file, string detail) =>
        new($"'{file.Path}' is a damaged zip archive: {detail}. The file is incomplete or corrupted; download it again.");
}

/// <summary>The bytes of one storage: a range of the memory map, or an inflated array.</summary>
internal readonly unsafe struct StorageBytes
{
    private readonly MappedFile? file;
    private readonly long offset;
    private readonly byte[]? copy;

    private StorageBytes(MappedFile? file, long offset, long length, byte[]? copy)
    {
        this.file = file;
        this.offset = offset;
        this.copy = copy;
        Length = length;
    }

    public long Length { get; }

    public static StorageBytes InPlace(MappedFile file, long offset, long length) => new(file, offset, length, null);

    public static StorageBytes Copied(byte[] bytes) => new(null, 0, bytes.Length, bytes);

    /// <summary>
    /// <paramref name="count"/> float32 values from byte <paramref name="start"/> as memory over the
    /// copy-on-write map, without copying; false for an inflated copy or a misaligned start.
    /// </summary>
    public bool TryGetFloat32(long start, int count, out Memory<float> memory)
    {
        memory = default;
        if (file is null || start < 0 || count < 0 || start > Length - (long)count * sizeof(float) || (offset + start) % sizeof(float) != 0) return false;
        memory = file.Float32(offset + start, count);
        return true;
    }

    /// <summary>A span of <paramref name="count"/> bytes from <paramref name="start"/> (count &lt;= int.MaxValue).</summary>
    public ReadOnlySpan<byte> Slice(long start, int count)
    {
        if (start < 0 || count < 0 || start > Length - count) throw new ArgumentOutOfRangeException(nameof(start));
        return copy is not null ? copy.AsSpan((int)start, count) : new ReadOnlySpan<byte>(file!.At(offset + start), count);
    }
}
