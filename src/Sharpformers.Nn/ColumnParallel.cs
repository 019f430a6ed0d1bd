using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>
/// Splits column-wise reductions (bias gradients, embedding scatter-adds, LayerNorm parameter
/// gradients) across <see cref="KernelParallel"/> by column windows: each window is summed over all
/// rows in order by one thread, so results are the same whatever the thread count.
/// </summary>
public static class ColumnParallel
{
    /// <summary>Calls body(startColumn, columnCount) over [0, columns) in windows of whole 16-float (64-byte) blocks.</summary>
    public static void For(int columns, long rows, Action<int, int> body)
    {
        if (columns <= 0) return;
        long total = Math.Max(1, rows) * columns;
        int blocks = (columns + 15) / 16;
        int chunks = (int)Math.Min(Math.Min(KernelParallel.MaxThreads, blocks), Math.Max(1, total / RowParallel.MinElementsPerChunk));
        if (chunks <= 1)
        {
            body(0, columns);
            return;
        }
        KernelParallel.For(chunks, c =>
        {
            int start = (int)((long)blocks * c / chunks) * 16;
            int end = Math.Min(columns, (int)((long)blocks * (c + 1) / chunks) * 16);
            if (end > start) body(start, end - start);
        });
    }
}
