using System.IO.MemoryMappedFiles;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>
/// A read-only memory map of a whole file: checkpoint bytes are read in place (no copy, no
/// inflation for the stored entries torch writes) and paged in by the OS on demand.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private byte* pointer;

    public MappedFile(string path, long length)
    {
        Path = path;
        Length = length;
        map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        pointer += view.PointerOffset;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>The address of byte <paramref name="offset"/>; callers check ranges with <see cref="Contains"/>.</summary>
    public byte* At(long offset) => pointer + offset;

    public bool Contains(long offset, long count) => offset >= 0 && count >= 0 && offset <= Length && count <= Length - offset;

    /// <summary>A span over [offset, offset + count); count must fit an int.</summary>
    public ReadOnlySpan<byte> Span(long offset, int count)
    {
        if (!Contains(offset, count)) throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + count}) is outside the {Length}-byte file.");
        return new ReadOnlySpan<byte>(pointer + offset, count);
    }

    public void Dispose()
    {
        if (pointer != null)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            pointer = null;
        }
        view.Dispose();
        map.Dispose();
    }
}
