namespace Sharpformers.Kernels;

/// <summary>
/// How the float32 and the int8 GEMM cut C into tasks for the worker pool: column groups of L2-sized
/// slices of B panels, each swept by every row of its group; tall C is split by rows too (≥ 64 rows per
/// group; the B slices are then read once per row group, cheap next to the work), short C (a few tokens)
/// only by columns, so each B panel is read once. About <see cref="TasksPerThread"/> tasks per thread,
/// so a core slowed by another process simply takes fewer of them.
/// </summary>
internal static class GemmTaskSplit
{
    public const int TasksPerThread = 8;

    /// <param name="m">Rows of C.</param>
    /// <param name="panels">Column panels of B.</param>
    /// <param name="sliceGroups">Column groups when each holds one L2-sized slice of panels.</param>
    /// <param name="threads">Threads the product may use.</param>
    public static (int RowGroups, int ColGroups) Split(int m, int panels, int sliceGroups, int threads)
    {
        int colGroups = sliceGroups;
        int rowGroups = 1;
        if (threads > 1)
        {
            int wanted = threads * TasksPerThread;
            if (m >= 128 * threads && colGroups < wanted)
            {
                rowGroups = Math.Min((wanted + colGroups - 1) / colGroups, Math.Max(1, m / 64));
            }
            if (rowGroups * colGroups < wanted)
            {
                colGroups = Math.Min(panels, (wanted + rowGroups - 1) / rowGroups);
            }
        }
        return (rowGroups, colGroups);
    }
}
