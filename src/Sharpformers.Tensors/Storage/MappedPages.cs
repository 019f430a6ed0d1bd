using System.Runtime.InteropServices;

namespace Sharpformers.Tensors.Storage;

/// <summary>
/// Gives back the physical pages behind a weight that was memory-mapped from a checkpoint once a
/// packed copy of it exists (inference keeps weights in the GEMM's panel layout): without this the
/// process would hold each weight twice, the mapped file pages and the packed copy. Only pages that are
/// still the file's own (never written, so the copy-on-write mapping shares them with the page cache)
/// are dropped; reading them again faults the same bytes back in from the file, so the tensor stays
/// valid. A weight that was written in place (fine-tuning) has private pages, and those are kept: the
/// check reads <c>/proc/self/pagemap</c> first, and on any doubt (another OS, no pagemap, anonymous or
/// swapped pages) nothing is released.
/// </summary>
public static unsafe class MappedPages
{
    private const int MadviseDontNeed = 4;
    private const ulong PagePresent = 1UL << 63;
    private const ulong PageSwapped = 1UL << 62;
    private const ulong PageFileOrSharedAnon = 1UL << 61;

    /// <summary>
    /// Releases the whole pages inside <paramref name="memory"/> when every resident one is an unmodified
    /// page of a mapped file. Returns the bytes released (0 when nothing was, e.g. managed memory).
    /// </summary>
    public static long TryRelease(Memory<float> memory)
    {
        if (memory.IsEmpty || !OperatingSystem.IsLinux() || MemoryMarshal.TryGetArray<float>(memory, out _)) return 0;
        using var handle = memory.Pin();
        return TryRelease((byte*)handle.Pointer, (long)memory.Length * sizeof(float));
    }

    private static long TryRelease(byte* start, long bytes)
    {
        long pageSize = Environment.SystemPageSize;
        long first = ((long)start + pageSize - 1) / pageSize;
        long end = ((long)start + bytes) / pageSize; // exclusive: edge pages may hold a neighbour's bytes
        if (end <= first) return 0;
        long pages = end - first;
        try
        {
            using var pagemap = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.RandomAccess);
            var entries = new byte[Math.Min(pages, 8192) * sizeof(ulong)];
            for (long done = 0; done < pages;)
            {
                int count = (int)Math.Min(pages - done, entries.Length / sizeof(ulong));
                pagemap.Position = (first + done) * sizeof(ulong);
                pagemap.ReadExactly(entries, 0, count * sizeof(ulong));
                var flags = MemoryMarshal.Cast<byte, ulong>(entries.AsSpan(0, count * sizeof(ulong)));
                foreach (ulong entry in flags)
                {
                    if ((entry & PageSwapped) != 0) return 0;
                    if ((entry & PagePresent) != 0 && (entry & PageFileOrSharedAnon) == 0) return 0; // a private (written) page
                }
                done += count;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return 0;
        }
        return Madvise((void*)(first * pageSize), (nuint)(pages * pageSize), MadviseDontNeed) == 0 ? pages * pageSize : 0;
    }

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);
}
