namespace Sharpformers.Kernels;

/// <summary>Shape validation shared by the fast GEMM and its naive reference.</summary>
internal static class GemmChecks
{
    /// <summary>
    /// Checks a row-major operand: op(X) is rows×cols; stored as (rows, ld) when not transposed and
    /// (cols, ld) when transposed.
    /// </summary>
    public static void Operand(Transpose trans, int rows, int cols, int spanLength, int ld, string name)
    {
        int storedRows = trans == Transpose.No ? rows : cols;
        int storedCols = trans == Transpose.No ? cols : rows;
        if (ld < Math.Max(1, storedCols))
        {
            KernelThrow.Argument(name, $"Leading dimension {ld} is smaller than the stored row length {storedCols}.");
        }
        if (storedRows > 0 && storedCols > 0 && (long)(storedRows - 1) * ld + storedCols > spanLength)
        {
            KernelThrow.SourceTooShort(name);
        }
    }

    public static void Dimensions(int m, int n, int k)
    {
        if (m < 0) KernelThrow.Argument(nameof(m), "m must be non-negative.");
        if (n < 0) KernelThrow.Argument(nameof(n), "n must be non-negative.");
        if (k < 0) KernelThrow.Argument(nameof(k), "k must be non-negative.");
    }

    public static void Destination(int m, int n, int spanLength, int ldc)
    {
        if (ldc < Math.Max(1, n)) KernelThrow.Argument(nameof(ldc), $"ldc {ldc} is smaller than n {n}.");
        if (m > 0 && n > 0 && (long)(m - 1) * ldc + n > spanLength) KernelThrow.DestinationTooShort("c");
    }

    /// <summary>Checks the operands of a strided batch: item i starts at i·stride and the last must fit.</summary>
    public static void Batch(Transpose trans, int rows, int cols, int spanLength, int ld, long stride, int batchCount, string name)
    {
        if (stride < 0) KernelThrow.Argument(name, $"Stride of {name} must be non-negative, got {stride}.");
        long lastStart = batchCount > 0 ? (batchCount - 1) * stride : 0;
        if (lastStart > spanLength) KernelThrow.SourceTooShort(name);
        Operand(trans, rows, cols, (int)Math.Min(int.MaxValue, spanLength - lastStart), ld, name);
    }

    public static void BatchDestination(int m, int n, int spanLength, int ldc, long strideC, int batchCount)
    {
        if (strideC < 0) KernelThrow.Argument("strideC", $"strideC must be non-negative, got {strideC}.");
        long lastStart = batchCount > 0 ? (batchCount - 1) * strideC : 0;
        if (lastStart > spanLength) KernelThrow.DestinationTooShort("c");
        Destination(m, n, (int)Math.Min(int.MaxValue, spanLength - lastStart), ldc);
    }

    public static void Bias(int n, int biasLength)
    {
        if (biasLength != 0 && biasLength != n)
        {
            KernelThrow.Argument("bias", $"bias has {biasLength} values but C has {n} columns (pass one per column, or none).");
        }
    }
}
