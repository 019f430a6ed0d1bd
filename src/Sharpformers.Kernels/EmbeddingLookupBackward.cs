using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// Backward of the embedding gathers: each looked-up row's gradient is added back into the table's
/// gradient (torch's embedding_dense_backward), in position order, so repeated ids accumulate the
/// same way every run. The row of <c>paddingIdx</c> gets no gradient, as torch's nn.Embedding(padding_idx=…).
/// Strides let a caller hand a column window of both matrices to each thread (race-free and
/// independent of the thread count). Naive twin: <see cref="EmbeddingLookupBackwardReference"/>.
/// </summary>
public static class EmbeddingLookupBackward
{
    /// <summary>
    /// tableGrad[ids[i]·tableStride + c] += dy[i·dyStride + c] for c &lt; <paramref name="width"/>,
    /// skipping ids equal to <paramref name="paddingIdx"/> (−1 for none).
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<int> ids, int paddingIdx,
        Span<float> tableGrad, int tableStride, int width)
    {
        int tableRows = Validate(dy, dyStride, ids, tableGrad, tableStride, width);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = EmbeddingLookup.CheckedRow(ids, i, tableRows);
            if (id == paddingIdx) continue;
            AddInto(tableGrad.Slice(id * tableStride, width), dy.Slice(i * dyStride, width));
        }
    }

    internal static int Validate(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<int> ids, ReadOnlySpan<float> tableGrad, int tableStride, int width)
    {
        if (width < 0 || dyStride < width || tableStride < width)
        {
            KernelThrow.Argument(nameof(width), $"width {width} must be non-negative and at most both strides (dy {dyStride}, table {tableStride}).");
        }
        if (ids.Length > 0 && (long)(ids.Length - 1) * dyStride + width > dy.Length)
        {
            KernelThrow.Argument(nameof(dy), $"dy has length {dy.Length}, too short for {ids.Length} rows of stride {dyStride} and width {width}.");
        }
        if (tableStride == 0) return 0;
        // The last table row may be a partial window.
        return (int)Math.Max(0, (tableGrad.Length - width + (long)tableStride) / tableStride);
    }

    private static void AddInto(Span<float> destination, ReadOnlySpan<float> source)
    {
        ref float dr = ref MemoryMarshal.GetReference(destination);
        ref float sr = ref MemoryMarshal.GetReference(source);
        int n = destination.Length;
        int i = 0;
        if (SimdLevel.Use512)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                (Vector512.LoadUnsafe(ref dr, (nuint)i) + Vector512.LoadUnsafe(ref sr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
        }
        else if (SimdLevel.Use256)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.LoadUnsafe(ref dr, (nuint)i) + Vector256.LoadUnsafe(ref sr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < n; i++) destination[i] += source[i];
    }
}

/// <summary>The naive scatter-add that <see cref="EmbeddingLookupBackward"/> is tested against.</summary>
public static class EmbeddingLookupBackwardReference
{
    public static void ScatterAdd(ReadOnlySpan<float> dy, int dyStride, ReadOnlySpan<int> ids, int paddingIdx,
        Span<float> tableGrad, int tableStride, int width)
    {
        int tableRows = EmbeddingLookupBackward.Validate(dy, dyStride, ids, tableGrad, tableStride, width);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = EmbeddingLookup.CheckedRow(ids, i, tableRows);
            if (id == paddingIdx) continue;
            for (int c = 0; c < width; c++) tableGrad[id * tableStride + c] += dy[i * dyStride + c];
        }
    }
}
