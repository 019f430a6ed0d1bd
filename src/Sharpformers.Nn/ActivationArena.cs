namespace Sharpformers.Nn;

/// <summary>
/// Scratch memory for one forward pass, handed out in slices. The first pass of a given size
/// allocates as it goes and records the total; <see cref="Reset"/> then grows one buffer to that total,
/// so later passes of the same or a smaller size allocate nothing. Slices are valid until Reset.
/// Not thread-safe: each concurrent forward pass rents its own arena.
/// </summary>
public sealed class ActivationArena
{
    private float[] buffer = [];
    private int used;
    private long requested;
    private byte[] byteBuffer = [];
    private int bytesUsed;
    private long bytesRequested;

    /// <summary>Floats currently reserved by the arena's buffer.</summary>
    public int Capacity => buffer.Length;

    /// <summary>A slice of <paramref name="length"/> floats with unspecified contents.</summary>
    public Memory<float> Take(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Slices start on 16-float (64-byte) boundaries within the buffer so vector loads line up alike.
        int rounded = (length + 15) & ~15;
        requested += rounded;
        if (used + (long)rounded <= buffer.Length)
        {
            var slice = buffer.AsMemory(used, length);
            used += rounded;
            return slice;
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Like <see cref="Take"/>, zero-filled.</summary>
    public Memory<float> TakeZeroed(int length)
    {
        var memory = Take(length);
        memory.Span.Clear();
        return memory;
    }

    /// <summary>
    /// A slice of <paramref name="length"/> bytes with unspecified contents (dropout masks), from a
    /// byte buffer managed like the float one.
    /// </summary>
    public Memory<byte> TakeBytes(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int rounded = (length + 63) & ~63;
        bytesRequested += rounded;
        if (bytesUsed + (long)rounded <= byteBuffer.Length)
        {
            var slice = byteBuffer.AsMemory(bytesUsed, length);
            bytesUsed += rounded;
            return slice;
        }
        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Releases every slice; grows the buffers to the largest pass seen so the next one fits.</summary>
    public void Reset()
    {
        if (requested > buffer.Length && requested <= Array.MaxLength)
        {
            buffer = GC.AllocateUninitializedArray<float>((int)requested);
        }
        if (bytesRequested > byteBuffer.Length && bytesRequested <= Array.MaxLength)
        {
            byteBuffer = GC.AllocateUninitializedArray<byte>((int)bytesRequested);
        }
        used = 0;
        requested = 0;
        bytesUsed = 0;
        bytesRequested = 0;
    }
}
