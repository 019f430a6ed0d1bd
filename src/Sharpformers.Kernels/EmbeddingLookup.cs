namespace Sharpformers.Kernels;

/// <summary>
/// Embedding gathers: rows of a (rows, cols) table picked by index. Indices are checked: an id
/// outside the table is an ArgumentException naming the position and the table size.
/// Naive twin: <see cref="EmbeddingLookupReference"/>.
/// </summary>
public static class EmbeddingLookup
{
    /// <summary>y[i, :] = table[ids[i], :]; y has ids.Length rows of <paramref name="cols"/>.</summary>
    public static void Gather(ReadOnlySpan<float> table, int cols, ReadOnlySpan<int> ids, Span<float> y)
    {
        int tableRows = Validate(table, cols, ids, y);
        for (int i = 0; i < ids.Length; i++)
        {
            table.Slice(CheckedRow(ids, i, tableRows) * cols, cols).CopyTo(y.Slice(i * cols, cols));
        }
    }

    /// <summary>y[i, :] += table[ids[i], :] (summing word, position and token-type embeddings).</summary>
    public static void GatherAdd(ReadOnlySpan<float> table, int cols, ReadOnlySpan<int> ids, Span<float> y)
    {
        int tableRows = Validate(table, cols, ids, y);
        for (int i = 0; i < ids.Length; i++)
        {
            var dst = y.Slice(i * cols, cols);
            Elementwise.Add(dst, table.Slice(CheckedRow(ids, i, tableRows) * cols, cols), dst);
        }
    }

    internal static int Validate(ReadOnlySpan<float> table, int cols, ReadOnlySpan<int> ids, ReadOnlySpan<float> y)
    {
        int tableRows = Checks.Rows(table, cols, nameof(table));
        if ((long)ids.Length * cols != y.Length)
        {
            KernelThrow.Argument(nameof(y), $"y has length {y.Length}, expected {ids.Length} ids × {cols} columns.");
        }
        return tableRows;
    }

    internal static int CheckedRow(ReadOnlySpan<int> ids, int i, int tableRows)
    {
        int id = ids[i];
        if ((uint)id >= (uint)tableRows)
        {
            KernelThrow.Argument(nameof(ids), $"Index {id} at position {i} is outside the embedding table of {tableRows} rows.");
        }
        return id;
    }
}

/// <summary>The naive gathers that <see cref="EmbeddingLookup"/> is tested against.</summary>
public static class EmbeddingLookupReference
{
    public static void Gather(ReadOnlySpan<float> table, int cols, ReadOnlySpan<int> ids, Span<float> y)
    {
        int rows = EmbeddingLookup.Validate(table, cols, ids, y);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = EmbeddingLookup.CheckedRow(ids, i, rows);
            for (int c = 0; c < cols; c++) y[i * cols + c] = table[id * cols + c];
        }
    }

    public static void GatherAdd(ReadOnlySpan<float> table, int cols, ReadOnlySpan<int> ids, Span<float> y)
    {
        int rows = EmbeddingLookup.Validate(table, cols, ids, y);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = EmbeddingLookup.CheckedRow(ids, i, rows);
            for (int c = 0; c < cols; c++) y[i * cols + c] += table[id * cols + c];
        }
    }
}
