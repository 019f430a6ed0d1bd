using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Element-wise arithmetic: residual adds, bias adds, scaling. Destination last; the destination may
/// be one of the sources (in place). Naive twin: <see cref="ElementwiseReference"/>.
/// </summary>
public static class Elementwise
{
    /// <summary>y = a + b (residual connections).</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Checks.SameLengthOrAlias(a, y, nameof(a), nameof(y));
        Checks.SameLengthOrAlias(b, y, nameof(b), nameof(y));
        AddUnchecked(a, b, y);
    }

    /// <summary>y[r, :] = x[r, :] + row for every row (bias add); row.Length is the column count.</summary>
    public static void AddRowToEachRow(ReadOnlySpan<float> x, ReadOnlySpan<float> row, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int cols = row.Length;
        int rows = Checks.Rows(x, cols, nameof(x));
        for (int r = 0; r < rows; r++)
        {
            AddUnchecked(x.Slice(r * cols, cols), row, y.Slice(r * cols, cols));
        }
    }

    /// <summary>y[r, :] = row for every row (fills a GEMM destination with the bias before beta = 1).</summary>
    public static void BroadcastRow(ReadOnlySpan<float> row, Span<float> y)
    {
        int cols = row.Length;
        int rows = Checks.Rows(y, cols, nameof(y));
        for (int r = 0; r < rows; r++) row.CopyTo(y.Slice(r * cols, cols));
    }

    /// <summary>y = alpha · x.</summary>
    public static void Scale(ReadOnlySpan<float> x, float alpha, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        if (SimdLevel.Use512)
        {
            var va = Vector512.Create(alpha);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                (Vector512.LoadUnsafe(ref xr, (nuint)i) * va).StoreUnsafe(ref yr, (nuint)i);
        }
        else if (SimdLevel.Use256)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref xr, (nuint)i) * va).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++) y[i] = x[i] * alpha;
    }

    private static void AddUnchecked(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length;
        int i = 0;
        if (SimdLevel.Use512)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                (Vector512.LoadUnsafe(ref ar, (nuint)i) + Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        else if (SimdLevel.Use256)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref ar, (nuint)i) + Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++) y[i] = a[i] + b[i];
    }
}

/// <summary>The naive element-wise arithmetic that <see cref="Elementwise"/> is tested against.</summary>
public static class ElementwiseReference
{
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Checks.SameLengthOrAlias(a, y, nameof(a), nameof(y));
        Checks.SameLengthOrAlias(b, y, nameof(b), nameof(y));
        for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
    }

    public static void AddRowToEachRow(ReadOnlySpan<float> x, ReadOnlySpan<float> row, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        int rows = Checks.Rows(x, row.Length, nameof(x));
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < row.Length; c++)
                y[r * row.Length + c] = x[r * row.Length + c] + row[c];
    }

    public static void BroadcastRow(ReadOnlySpan<float> row, Span<float> y)
    {
        int rows = Checks.Rows(y, row.Length, nameof(y));
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < row.Length; c++)
                y[r * row.Length + c] = row[c];
    }

    public static void Scale(ReadOnlySpan<float> x, float alpha, Span<float> y)
    {
        Checks.SameLengthOrAlias(x, y, nameof(x), nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = (float)((double)x[i] * alpha);
    }
}
