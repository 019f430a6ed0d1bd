using Sharpformers.Kernels;

namespace Sharpformers.Nn;

/// <summary>
/// Splits row-wise work (LayerNorm, softmax, activations over (rows, cols) buffers) across
/// <see cref="KernelParallel"/>, in chunks big enough that scheduling costs nothing next to the work.
/// </summary>
public static class RowParallel
{
    /// <summary>Below this many elements per chunk, splitting costs more than it saves.</summary>
    public const int MinElementsPerChunk = 32 * 1024;

    /// <summary>Calls body(startRow, rowCount) over [0, rows) in contiguous chunks.</summary>
    public static void For(int rows, int elementsPerRow, Action<int, int> body)
    {
        if (rows <= 0) return;
        long total = (long)rows * Math.Max(1, elementsPerRow);
        int chunks = (int)Math.Min(Math.Min(KernelParallel.MaxThreads * 4L, rows), Math.Max(1, total / MinElementsPerChunk));
        if (chunks <= 1)
        {
            body(0, rows);
            return;
        }
        KernelParallel.For(chunks, c =>
        {
            int start = (int)((long)rows * c / chunks);
            int end = (int)((long)rows * (c + 1) / chunks);
            if (end > start) body(start, end - start);
        });
    }
}
