using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Sums down the columns of a row-major matrix (a bias gradient is the column sum of dY). Rows are
/// added in order, so the result does not depend on how a caller splits the columns across threads.
/// Naive twin: <see cref="ColumnReductionsReference"/>.
/// </summary>
public static class ColumnReductions
{
    /// <summary>destination[c] += Σ_r x[r·stride + c] for c &lt; destination.Length, r &lt; rows.</summary>
    public static void AddColumnSums(ReadOnlySpan<float> x, int rows, int stride, Span<float> destination)
    {
        int width = Validate(x, rows, stride, destination);
        if (width == 0) return;
        ref float dr = ref MemoryMarshal.GetReference(destination);
        int c = 0;
        if (SimdLevel.Use512)
        {
            // Four vectors of columns at a time keep four independent accumulators in flight.
            for (; c <= width - 4 * Vector512<float>.Count; c += 4 * Vector512<float>.Count)
            {
                var a0 = Vector512.LoadUnsafe(ref dr, (nuint)c);
                var a1 = Vector512.LoadUnsafe(ref dr, (nuint)(c + 16));
                var a2 = Vector512.LoadUnsafe(ref dr, (nuint)(c + 32));
                var a3 = Vector512.LoadUnsafe(ref dr, (nuint)(c + 48));
                for (int r = 0; r < rows; r++)
                {
                    ref float xr = ref MemoryMarshal.GetReference(x.Slice(r * stride + c, 4 * Vector512<float>.Count));
                    a0 += Vector512.LoadUnsafe(ref xr);
                    a1 += Vector512.LoadUnsafe(ref xr, 16);
                    a2 += Vector512.LoadUnsafe(ref xr, 32);
                    a3 += Vector512.LoadUnsafe(ref xr, 48);
                }
                a0.StoreUnsafe(ref dr, (nuint)c);
                a1.StoreUnsafe(ref dr, (nuint)(c + 16));
                a2.StoreUnsafe(ref dr, (nuint)(c + 32));
                a3.StoreUnsafe(ref dr, (nuint)(c + 48));
            }
            for (; c <= width - Vector512<float>.Count; c += Vector512<float>.Count)
            {
                var a = Vector512.LoadUnsafe(ref dr, (nuint)c);
                for (int r = 0; r < rows; r++) a += Vector512.Create(x.Slice(r * stride + c, Vector512<float>.Count));
                a.StoreUnsafe(ref dr, (nuint)c);
            }
        }
        else if (SimdLevel.Use256)
        {
            for (; c <= width - Vector256<float>.Count; c += Vector256<float>.Count)
            {
                var a = Vector256.LoadUnsafe(ref dr, (nuint)c);
                for (int r = 0; r < rows; r++) a += Vector256.Create(x.Slice(r * stride + c, Vector256<float>.Count));
                a.StoreUnsafe(ref dr, (nuint)c);
            }
        }
        for (; c < width; c++)
        {
            float a = destination[c];
            for (int r = 0; r < rows; r++) a += x[r * stride + c];
            destination[c] = a;
        }
    }

    internal static int Validate(ReadOnlySpan<float> x, int rows, int stride, ReadOnlySpan<float> destination)
    {
        int width = destination.Length;
        if (rows < 0) KernelThrow.Argument(nameof(rows), $"rows must be non-negative, got {rows}.");
        if (stride < width) KernelThrow.Argument(nameof(stride), $"stride {stride} is shorter than the {width} columns summed.");
        if (rows > 0 && (long)(rows - 1) * stride + width > x.Length)
        {
            KernelThrow.Argument(nameof(x), $"x has length {x.Length}, too short for {rows} rows of stride {stride} and width {width}.");
        }
        return width;
    }
}

/// <summary>The naive, double-precision column sums that <see cref="ColumnReductions"/> is tested against.</summary>
public static class ColumnReductionsReference
{
    public static void AddColumnSums(ReadOnlySpan<float> x, int rows, int stride, Span<float> destination)
    {
        int width = ColumnReductions.Validate(x, rows, stride, destination);
        for (int c = 0; c < width; c++)
        {
            double sum = destination[c];
            for (int r = 0; r < rows; r++) sum += x[r * stride + c];
            destination[c] = (float)sum;
        }
    }
}
