using System.Buffers;
using System.Runtime.InteropServices;

namespace Sharpformers.Tensors.Storage;

/// <summary>
/// Float32 storage in native memory aligned to a cache line (64 bytes, one AVX-512 vector), outside
/// the GC heap: for large long-lived buffers such as packed weights. The owner disposes it, once every
/// tensor over it is finished with. There is deliberately no finalizer: a span does not keep its
/// manager alive, so freeing on finalization could pull memory from under a running kernel (CA2015).
/// </summary>
public sealed unsafe class AlignedNativeBuffer : MemoryManager<float>
{
    public const int Alignment = 64;

    private float* pointer;
    private readonly int length;

    public AlignedNativeBuffer(int length, bool zeroed = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        this.length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        pointer = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        if (zeroed) NativeMemory.Clear(pointer, bytes);
        GC.AddMemoryPressure((long)bytes);
    }

    public int Length => length;

    public bool IsDisposed => pointer is null;

    /// <summary>A tensor of <paramref name="shape"/> over this whole buffer.</summary>
    public Tensor AsTensor(params ReadOnlySpan<int> shape) => new(Memory, shape);

    public override Span<float> GetSpan()
    {
        ObjectDisposedException.ThrowIf(pointer is null, this);
        return new Span<float>(pointer, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(pointer is null, this);
        if ((uint)elementIndex > (uint)length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (pointer is null) return;
        NativeMemory.AlignedFree(pointer);
        pointer = null;
        GC.RemoveMemoryPressure((long)Math.Max(1, length) * sizeof(float));
    }
}
