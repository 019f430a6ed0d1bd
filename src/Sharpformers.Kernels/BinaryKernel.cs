using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>An element-wise function of two inputs (a forward value and an upstream gradient) at every width the kernels use.</summary>
internal interface IBinaryOperator
{
    static abstract float Invoke(float x, float dy);

    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy);

    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy);
}

/// <summary>
/// Applies an <see cref="IBinaryOperator"/> over two spans into a third: full vectors, then the tail
/// through one zero-padded vector so every element sees the same arithmetic. The destination may be
/// either source (in place).
/// </summary>
internal static class BinaryKernel
{
    public static void Map<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        where TOp : struct, IBinaryOperator
    {
        Checks.SameLengthOrAlias(x, dx, nameof(x), nameof(dx));
        Checks.SameLengthOrAlias(dy, dx, nameof(dy), nameof(dx));
        int n = x.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (SimdLevel.Use512)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
            if (i < n)
            {
                Span<float> tx = stackalloc float[Vector512<float>.Count];
                Span<float> tg = stackalloc float[Vector512<float>.Count];
                tx.Clear();
                tg.Clear();
                x[i..].CopyTo(tx);
                dy[i..].CopyTo(tg);
                TOp.Invoke(Vector512.Create((ReadOnlySpan<float>)tx), Vector512.Create((ReadOnlySpan<float>)tg)).CopyTo(tx);
                tx[..(n - i)].CopyTo(dx[i..]);
            }
            return;
        }
        if (SimdLevel.Use256)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
            if (i < n)
            {
                Span<float> tx = stackalloc float[Vector256<float>.Count];
                Span<float> tg = stackalloc float[Vector256<float>.Count];
                tx.Clear();
                tg.Clear();
                x[i..].CopyTo(tx);
                dy[i..].CopyTo(tg);
                TOp.Invoke(Vector256.Create((ReadOnlySpan<float>)tx), Vector256.Create((ReadOnlySpan<float>)tg)).CopyTo(tx);
                tx[..(n - i)].CopyTo(dx[i..]);
            }
            return;
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref gr, i));
        }
    }
}
