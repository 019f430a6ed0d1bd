using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sharpformers.Kernels;

/// <summary>
/// A float buffer on the pinned object heap whose usable part starts on a 64-byte (cache line, zmm)
/// boundary, so kernels can hold raw pointers into it without pinning per call.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int AlignFloats = 16;

    private readonly float[] storage;

    public AlignedBuffer(long length)
    {
        if (length > Array.MaxLength - AlignFloats)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Buffer too large for one array.");
        }
        storage = GC.AllocateUninitializedArray<float>((int)length + AlignFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref storage[0]);
        nint aligned = (address + 63) & ~(nint)63;
        Pointer = (float*)aligned;
        Length = length;
    }

    public float* Pointer { get; }

    public long Length { get; }

    public Span<float> AsSpan() => new(Pointer, (int)Length);
}

/// <summary>
/// Native memory for a long-lived packed weight (<see cref="PackedMatrix"/>, <see cref="QuantizedMatrix"/>),
/// 64-byte aligned and outside the GC heap (a model's packed weights are ~170 MB that never move and
/// never need scanning). Freed by the finalizer once the owning matrix is unreachable; the kernels keep
/// the matrix alive while they read it. Transparent huge pages were tried (MADV_HUGEPAGE): with this
/// machine's defrag setting the first touch sometimes stalls in compaction (0.1-0.6 s of system time at
/// load), so plain pages it is.
/// </summary>
internal sealed unsafe class NativeWeightBuffer
{
    public NativeWeightBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = Math.Max(bytes, 64);
        Pointer = NativeMemory.AlignedAlloc((nuint)size, 64);
        Bytes = size;
        GC.AddMemoryPressure(size);
    }

    public void* Pointer { get; private set; }

    public long Bytes { get; }

    ~NativeWeightBuffer()
    {
        if (Pointer is null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        GC.RemoveMemoryPressure(Bytes);
    }
}

/// <summary>
/// Per-thread scratch the GEMM reuses across calls so a steady stream of GEMMs allocates nothing:
/// the packed-B and packed-A buffers the calling thread owns for the duration of one call. A buffer is taken out while in use (a nested GEMM on the same thread
/// then allocates its own) and returned after.
/// </summary>
internal static class GemmScratch
{
    /// <summary>Buffers larger than this (floats) are not kept after the call (64 MB).</summary>
    private const long MaxCachedFloats = 16L << 20;

    [ThreadStatic]
    private static AlignedBuffer? packedB;

    [ThreadStatic]
    private static AlignedBuffer? packedA;

    [ThreadStatic]
    private static AlignedBuffer? tail;

    /// <summary>Small per-thread scratch (ragged panels, gathered rows) of the few-rows path.</summary>
    public static AlignedBuffer RentTail(long floats) => Rent(ref tail, floats);

    public static void ReturnTail(AlignedBuffer buffer) => Return(ref tail, buffer);

    public static AlignedBuffer RentPackedB(long floats) => Rent(ref packedB, floats);

    public static void ReturnPackedB(AlignedBuffer buffer) => Return(ref packedB, buffer);

    public static AlignedBuffer RentPackedA(long floats) => Rent(ref packedA, floats);

    public static void ReturnPackedA(AlignedBuffer buffer) => Return(ref packedA, buffer);

    private static AlignedBuffer Rent(ref AlignedBuffer? slot, long floats)
    {
        var buffer = slot;
        slot = null;
        return buffer is not null && buffer.Length >= floats ? buffer : new AlignedBuffer(Math.Max(floats, 1024));
    }

    private static void Return(ref AlignedBuffer? slot, AlignedBuffer buffer)
    {
        if (buffer.Length <= MaxCachedFloats && (slot is null || slot.Length < buffer.Length)) slot = buffer;
    }
}
