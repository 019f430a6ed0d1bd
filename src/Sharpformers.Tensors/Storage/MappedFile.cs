using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Sharpformers.Tensors.Storage;

/// <summary>
/// A whole file mapped into memory copy-on-write: reads come straight from the page cache (no copy,
/// no managed allocation), and writes (fine-tuning a loaded model in place) go to private pages
/// without touching the file. Tensors over it stay valid until it is disposed. Every checkpoint
/// reader (safetensors, the zip archives of pytorch_model.bin) maps its file through this class.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private byte* basePointer;

    private MappedFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        this.map = map;
        this.view = view;
        Length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        basePointer = p + view.PointerOffset;
    }

    public string Path { get; }

    public long Length { get; }

    public bool IsDisposed => basePointer is null;

    /// <summary>Maps <paramref name="path"/> (which must not be empty: an empty file cannot be mapped).</summary>
    public static MappedFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            long length = stream.Length;
            if (length == 0) throw new InvalidDataException($"'{path}' is empty.");
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
                return new MappedFile(path, map, view, length);
            }
            catch
            {
                map.Dispose();
                throw;
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether [offset, offset + count) lies inside the file (for parsers checking untrusted offsets first).</summary>
    public bool Contains(long offset, long count) => offset >= 0 && count >= 0 && offset <= Length && count <= Length - offset;

    /// <summary>The address of byte <paramref name="offset"/>; callers check the range with <see cref="Contains"/> first.</summary>
    internal byte* At(long offset)
    {
        ObjectDisposedException.ThrowIf(basePointer is null, this);
        return basePointer + offset;
    }

    /// <summary>Bytes [offset, offset + count) of the file.</summary>
    public ReadOnlySpan<byte> Bytes(long offset, int count)
    {
        CheckRange(offset, (long)count);
        return new ReadOnlySpan<byte>(basePointer + offset, count);
    }

    /// <summary>
    /// <paramref name="count"/> float32 values starting at byte <paramref name="offset"/> as writable
    /// memory (copy-on-write), without copying.
    /// </summary>
    public Memory<float> Float32(long offset, int count)
    {
        CheckRange(offset, (long)count * sizeof(float));
        if (count == 0) return Memory<float>.Empty;
        return new FloatView(this, (float*)(basePointer + offset), count).Memory;
    }

    private void CheckRange(long offset, long byteCount)
    {
        ObjectDisposedException.ThrowIf(basePointer is null, this);
        if (offset < 0 || byteCount < 0 || offset + byteCount > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes [{offset}, {offset + byteCount}) are outside '{Path}' ({Length} bytes).");
        }
    }

    public void Dispose()
    {
        Release(disposing: true);
        GC.SuppressFinalize(this);
    }

    // Unmaps a file nobody disposed once no tensor refers to it any more (every view holds this object).
    // The view handle is a critical-finalizer SafeHandle, so it is still valid when this runs.
    ~MappedFile() => Release(disposing: false);

    private void Release(bool disposing)
    {
        if (basePointer is null) return;
        basePointer = null;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        if (disposing)
        {
            view.Dispose();
            map.Dispose();
        }
    }

    /// <summary>A window of the mapping as Memory&lt;float&gt;; refuses access once the file is unmapped.</summary>
    private sealed class FloatView(MappedFile owner, float* pointer, int length) : MemoryManager<float>
    {
        public override Span<float> GetSpan()
        {
            ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
            return new Span<float>(pointer, length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
            if ((uint)elementIndex > (uint)length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
            return new MemoryHandle(pointer + elementIndex);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
