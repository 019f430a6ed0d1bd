using System.Text;
using Sharpformers.Tensors.Storage;
using Sharpformers.Utils;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>
/// Reads <c>pytorch_model.bin</c> files written by <c>torch.save</c> (torch &gt;= 1.6 zip format):
/// <c>&lt;archive&gt;/data.pkl</c> (the state dict, pickled) and <c>&lt;archive&gt;/data/&lt;key&gt;</c>
/// (one raw storage per key), with <c>&lt;archive&gt;/byteorder</c> when torch recorded it.
/// The pickle is interpreted by a restricted virtual machine that accepts only what a state dict
/// contains, so loading never runs code. Storages are memory-mapped and read in place; tensors that
/// are views (offsets, strides, shared/tied storages, non-contiguous layouts) are materialised
/// row-major on read. fp32, fp16, bf16, f64 and integer tensors read as float32; a contiguous
/// little-endian fp32 tensor that is the only user of its storage is handed out in place, without a
/// copy, like a safetensors tensor.
/// </summary>
public sealed class PyTorchCheckpointReader : ICheckpointReader
{
    private readonly MappedFile file;
    private readonly Dictionary<string, TorchTensor> tensors;
    private readonly Dictionary<string, StorageBytes> storages;
    private readonly Dictionary<string, int> storageUsers;
    private readonly List<TensorInfo> infos;

    private PyTorchCheckpointReader(string path, MappedFile file, bool bigEndian,
        Dictionary<string, TorchTensor> tensors, Dictionary<string, StorageBytes> storages, List<TensorInfo> infos)
    {
        SourcePath = path;
        this.file = file;
        IsBigEndian = bigEndian;
        this.tensors = tensors;
        this.storages = storages;
        storageUsers = tensors.Values.GroupBy(t => t.Storage.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        this.infos = infos;
    }

    public string SourcePath { get; }

    public IReadOnlyList<TensorInfo> Tensors => infos;

    /// <summary>Whether the archive's storages are big-endian (its byteorder record says "big").</summary>
    public bool IsBigEndian { get; }

    /// <summary>Opens and validates the checkpoint; every listed tensor can then be read without format errors.</summary>
    public static PyTorchCheckpointReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The checkpoint '{path}' does not exist.", path);
        LfsPointer.ThrowIfPointer(path);
        // Through a symlink (the Hugging Face cache's snapshots) FileInfo.Length is the link's size: ask the opened file.
        using (var handle = File.OpenHandle(path))
        {
            if (RandomAccess.GetLength(handle) == 0) throw new InvalidDataException($"'{path}' is not a PyTorch checkpoint: the file is empty.");
        }
        CheckSignature(path);

        var file = MappedFile.Open(path);
        try
        {
            var archive = TorchZipArchive.Open(file);
            string prefix = FindArchivePrefix(path, archive);
            bool bigEndian = ReadByteOrder(path, archive, prefix);
            var storagesByKey = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
            string pickleName = prefix + "data.pkl";
            archive.TryGetEntry(pickleName, out var pickleEntry);
            string source = $"'{path}' ({pickleName})";
            object? root = new RestrictedUnpickler(archive.ReadAll(pickleEntry).ToArray(), source, pid => LoadStorage(pid, source, storagesByKey)).Load();

            if (root is not PickleDict dict)
            {
                throw new InvalidDataException($"{source} holds {RestrictedUnpickler.Describe(root)}, not a state dict (a dict of name → tensor).");
            }
            var tensors = new Dictionary<string, TorchTensor>(StringComparer.Ordinal);
            var storages = new Dictionary<string, StorageBytes>(StringComparer.Ordinal);
            var infos = new List<TensorInfo>();
            foreach (var (key, value) in dict.Items)
            {
                if (key is not string name) throw new InvalidDataException($"{source}: a state dict key is {RestrictedUnpickler.Describe(key)}, not a str.");
                if (value is not TorchTensor tensor)
                {
                    throw new InvalidDataException(
                        $"{source}: '{name}' holds {RestrictedUnpickler.Describe(value)}, not a tensor. Expected a flat state dict (name → tensor) as save_pretrained writes.");
                }
                if (!storages.ContainsKey(tensor.Storage.Key)) storages[tensor.Storage.Key] = OpenStorage(path, archive, prefix, tensor.Storage, name);
                Validate(source, name, tensor);
                tensors[name] = tensor;
                infos.Add(new TensorInfo(name, tensor.Storage.DType, tensor.Size));
            }
            return new PyTorchCheckpointReader(path, file, bigEndian, tensors, storages, infos);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => tensors.ContainsKey(name);

    public void ReadAsFloat32(string name, Span<float> destination)
    {
        var tensor = Get(name);
        long count = ElementCount(tensor.Size);
        if (destination.Length != count)
        {
            throw new ArgumentException($"Tensor '{name}' of '{SourcePath}' has {count} elements but the destination has {destination.Length}.", nameof(destination));
        }
        if (count == 0) return;
        var storage = storages[tensor.Storage.Key];
        DType dtype = tensor.Storage.DType;
        int size = dtype.SizeOf();
        if (IsContiguous(tensor.Size, tensor.Stride))
        {
            const int Chunk = 1 << 20;
            for (long done = 0; done < count; done += Chunk)
            {
                int n = (int)Math.Min(Chunk, count - done);
                var bytes = storage.Slice((tensor.Offset + done) * size, n * size);
                ElementConversion.ToFloat32(dtype, bytes, destination.Slice((int)done, n), IsBigEndian);
            }
            return;
        }
        // A non-contiguous view (a transposed or sliced tensor saved with its storage): walk it in row-major order.
        int written = 0;
        foreach (long element in RowMajorElements(tensor))
        {
            destination[written++] = ElementConversion.One(storage.Slice(element * size, size), dtype, IsBigEndian);
        }
    }

    /// <summary>The storage index of every element of a (non-empty, possibly strided) tensor, in row-major order.</summary>
    private static IEnumerable<long> RowMajorElements(TorchTensor tensor)
    {
        int rank = tensor.Size.Length;
        if (rank == 0)
        {
            yield return tensor.Offset;
            yield break;
        }
        long[] index = new long[rank];
        long inner = tensor.Size[rank - 1];
        long innerStride = tensor.Stride[rank - 1];
        long count = ElementCount(tensor.Size);
        for (long done = 0; done < count; done += inner)
        {
            long start = tensor.Offset;
            for (int d = 0; d < rank - 1; d++) start += index[d] * tensor.Stride[d];
            for (long j = 0; j < inner; j++) yield return start + j * innerStride;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < tensor.Size[d]) break;
                index[d] = 0;
            }
        }
    }

    /// <summary>Big-endian elements to little-endian, in place.</summary>
    private static void ReverseEachElement(Span<byte> bytes, int size)
    {
        for (int i = 0; i < bytes.Length; i += size) bytes.Slice(i, size).Reverse();
    }

    public bool TryGetFloat32Memory(string name, out Memory<float> memory)
    {
        memory = default;
        var tensor = Get(name);
        long count = ElementCount(tensor.Size);
        // A storage two names share (tied weights) is copied per name: handing out one memory twice would
        // make two parameters alias, and an optimizer step would then update it twice.
        if (tensor.Storage.DType != DType.F32 || IsBigEndian || !BitConverter.IsLittleEndian || count == 0
            || !IsContiguous(tensor.Size, tensor.Stride) || storageUsers[tensor.Storage.Key] > 1)
        {
            return false;
        }
        return storages[tensor.Storage.Key].TryGetFloat32(tensor.Offset * sizeof(float), (int)count, out memory);
    }

    public void ReadRaw(string name, Span<byte> destination)
    {
        var tensor = Get(name);
        DType dtype = tensor.Storage.DType;
        int size = dtype.SizeOf();
        long count = ElementCount(tensor.Size);
        if (destination.Length != count * size)
        {
            throw new ArgumentException(
                $"Tensor '{name}' of '{SourcePath}' has {count} {dtype.SafetensorsName()} elements ({count * size} bytes) but the destination has {destination.Length} bytes.",
                nameof(destination));
        }
        if (count == 0) return;
        var storage = storages[tensor.Storage.Key];
        if (IsContiguous(tensor.Size, tensor.Stride))
        {
            storage.Slice(tensor.Offset * size, destination.Length).CopyTo(destination);
        }
        else
        {
            int written = 0;
            foreach (long element in RowMajorElements(tensor))
            {
                storage.Slice(element * size, size).CopyTo(destination.Slice(written, size));
                written += size;
            }
        }
        if (IsBigEndian && size > 1) ReverseEachElement(destination, size);
    }

    /// <summary>The storage key a tensor reads from; tensors sharing a key are tied (same memory in torch).</summary>
    public string StorageKeyOf(string name) => Get(name).Storage.Key;

    public void Dispose() => file.Dispose();

    private TorchTensor Get(string name) =>
        tensors.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"'{SourcePath}' has no tensor named '{name}'.");

    private static void CheckSignature(string path)
    {
        Span<byte> head = stackalloc byte[264];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8)) return;
        // The legacy format is a bare pickle stream (protocol 2 and torch's magic number), or a tar
        // archive for the oldest files.
        bool legacyPickle = head.Length >= 2 && head[0] == 0x80 && head[1] <= 5;
        bool legacyTar = head.Length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8);
        if (legacyPickle || legacyTar)
        {
            throw new InvalidDataException(
                $"'{path}' uses PyTorch's legacy serialization format (torch < 1.6, not a zip archive), which Sharpformers does not read. " +
                "Re-save it with torch>=1.6 (torch.save(torch.load(path), path)), or convert it to safetensors.");
        }
        string hex = Convert.ToHexString(head[..Math.Min(4, head.Length)]);
        throw new InvalidDataException(
            $"'{path}' is not a PyTorch checkpoint: expected a zip archive (torch>=1.6 format, starting with 504B0304) but it starts with {hex}.");
    }

    private static string FindArchivePrefix(string path, TorchZipArchive archive)
    {
        // torch names every member "<archive>/..."; the archive name is the file's stem when saved.
        var pickles = archive.Entries
            .Where(e => e.Name == "data.pkl" || (e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Name.IndexOf('/') == e.Name.Length - "/data.pkl".Length))
            .Select(e => e.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (pickles.Count == 0)
        {
            throw new InvalidDataException($"'{path}' is a zip archive but not a PyTorch checkpoint: it has no '<archive>/data.pkl' member.");
        }
        return pickles[0][..^"data.pkl".Length];
    }

    private static bool ReadByteOrder(string path, TorchZipArchive archive, string prefix)
    {
        if (!archive.TryGetEntry(prefix + "byteorder", out var entry)) return false; // torch < 2.1 wrote only little-endian files
        string order = Encoding.ASCII.GetString(archive.ReadAll(entry).Span).Trim();
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new InvalidDataException($"'{path}': {prefix}byteorder says '{order}', expected 'little' or 'big'."),
        };
    }

    /// <summary>torch's persistent id: ('storage', storage_type, key, location, numel).</summary>
    private static TorchStorage LoadStorage(PickleTuple pid, string source, Dictionary<string, TorchStorage> byKey)
    {
        if (pid.Count != 5 || pid[0] is not "storage" || pid[1] is not PickleGlobal type || pid[2] is not string key
            || pid[3] is not string location || pid[4] is not long numel || numel < 0)
        {
            throw new InvalidDataException(
                $"{source}: a persistent id is not ('storage', storage_type, key, location, numel) (got a {pid.Count}-tuple).");
        }
        if (type.Module != "torch" || !RestrictedUnpickler.StorageTypes.TryGetValue(type.Name, out DType dtype))
        {
            throw new InvalidDataException($"{source}: a persistent id names '{type.FullName}', which is not a torch storage type.");
        }
        var storage = new TorchStorage(key, dtype, type.Name, location, numel);
        if (byKey.TryGetValue(key, out var existing))
        {
            if (existing.DType != dtype || existing.ElementCount != numel)
            {
                throw new InvalidDataException(
                    $"{source}: storage '{key}' is described twice differently (torch.{existing.TypeName} of {existing.ElementCount} and torch.{type.Name} of {numel}).");
            }
            return existing;
        }
        byKey[key] = storage;
        return storage;
    }

    private static StorageBytes OpenStorage(string path, TorchZipArchive archive, string prefix, TorchStorage storage, string tensorName)
    {
        string member = $"{prefix}data/{storage.Key}";
        if (!archive.TryGetEntry(member, out var entry))
        {
            throw new InvalidDataException(
                $"'{path}': tensor '{tensorName}' is stored in storage '{storage.Key}', but the archive has no member '{member}'. " +
                "The file is incomplete or corrupted; download it again.");
        }
        long needed = storage.ElementCount * storage.DType.SizeOf();
        if (entry.Size < needed)
        {
            throw new InvalidDataException(
                $"'{path}': storage '{member}' has {entry.Size} bytes but holds {storage.ElementCount} torch.{storage.TypeName} elements ({needed} bytes). " +
                "The file is incomplete or corrupted; download it again.");
        }
        return archive.OpenStorage(entry);
    }

    private static void Validate(string source, string name, TorchTensor tensor)
    {
        if (tensor.Size.Length != tensor.Stride.Length)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has {tensor.Size.Length} sizes but {tensor.Stride.Length} strides.");
        }
        if (tensor.Size.Any(s => s < 0) || tensor.Stride.Any(s => s < 0) || tensor.Offset < 0)
        {
            throw new InvalidDataException(
                $"{source}: tensor '{name}' has a negative size, stride or offset (size [{string.Join(", ", tensor.Size)}], stride [{string.Join(", ", tensor.Stride)}], offset {tensor.Offset}).");
        }
        long count;
        try
        {
            count = ElementCount(tensor.Size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has an impossible shape [{string.Join(", ", tensor.Size)}].");
        }
        if (count > int.MaxValue)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has {count} elements; at most {int.MaxValue} per tensor are supported.");
        }
        if (count == 0) return;
        long last = tensor.Offset;
        for (int d = 0; d < tensor.Size.Length; d++) last += (tensor.Size[d] - 1) * tensor.Stride[d];
        if (last >= tensor.Storage.ElementCount)
        {
            throw new InvalidDataException(
                $"{source}: tensor '{name}' (offset {tensor.Offset}, size [{string.Join(", ", tensor.Size)}], stride [{string.Join(", ", tensor.Stride)}]) " +
                $"reaches element {last} of storage '{tensor.Storage.Key}', which has {tensor.Storage.ElementCount}.");
        }
    }

    private static long ElementCount(long[] size)
    {
        long count = 1;
        foreach (long s in size) count = checked(count * s);
        return count;
    }

    /// <summary>Row-major contiguity; dimensions of size 1 may carry any stride.</summary>
    private static bool IsContiguous(long[] size, long[] stride)
    {
        long expected = 1;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            if (size[d] == 1) continue;
            if (stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }
}
