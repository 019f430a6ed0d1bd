using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>An element-wise function at every width the kernels use.</summary>
internal interface IUnaryOperator
{
    static abstract float Invoke(float x);

    static abstract Vector256<float> Invoke(Vector256<float> x);

    static abstract Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>Applies an <see cref="IUnaryOperator"/> over a span: full vectors, then the tail through one padded vector.</summary>
internal static class UnaryKernel
{
    public static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : struct, IUnaryOperator
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int n = x.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (SimdLevel.Use512)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }
            if (i < n)
            {
                // The tail goes through the same vector code (zero-padded) so every element sees the same arithmetic.
                Span<float> tail = stackalloc float[Vector512<float>.Count];
                tail.Clear();
                x[i..].CopyTo(tail);
                var result = TOp.Invoke(Vector512.Create((ReadOnlySpan<float>)tail));
                result.CopyTo(tail);
                tail[..(n - i)].CopyTo(y[i..]);
            }
            return;
        }
        if (SimdLevel.Use256)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }
            if (i < n)
            {
                Span<float> tail = stackalloc float[Vector256<float>.Count];
                tail.Clear();
                x[i..].CopyTo(tail);
                var result = TOp.Invoke(Vector256.Create((ReadOnlySpan<float>)tail));
                result.CopyTo(tail);
                tail[..(n - i)].CopyTo(y[i..]);
            }
            return;
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = TOp.Invoke(Unsafe.Add(ref xr, i));
        }
    }
}
