namespace Sharpformers.Kernels;

/// <summary>Argument validation shared by the kernels and their references.</summary>
internal static class Checks
{
    /// <summary>Destination as long as the source; the two may be the same memory (in place) but not partly overlap.</summary>
    public static void SameLengthOrAlias(ReadOnlySpan<float> x, ReadOnlySpan<float> y, string xName, string yName)
    {
        if (x.Length != y.Length)
        {
            KernelThrow.Argument(yName, $"{yName} has length {y.Length} but {xName} has length {x.Length}.");
        }
        NoPartialOverlap(x, y, yName);
    }

    public static void NoPartialOverlap(ReadOnlySpan<float> x, ReadOnlySpan<float> y, string yName)
    {
        if (x.Overlaps(y, out int offset) && offset != 0)
        {
            KernelThrow.Argument(yName, $"{yName} partly overlaps its source (offset {offset}); use the same span for in-place work or separate memory.");
        }
    }

    public static void Length(ReadOnlySpan<float> span, int expected, string name, string what)
    {
        if (span.Length != expected)
        {
            KernelThrow.Argument(name, $"{name} has length {span.Length}, expected {expected} ({what}).");
        }
    }

    /// <summary>Rows of <paramref name="cols"/> elements: returns the row count.</summary>
    public static int Rows(ReadOnlySpan<float> x, int cols, string name)
    {
        if (cols <= 0)
        {
            if (cols == 0 && x.Length == 0) return 0;
            KernelThrow.Argument(nameof(cols), $"cols must be positive, got {cols}.");
        }
        if (x.Length % cols != 0)
        {
            KernelThrow.Argument(name, $"{name} has length {x.Length}, which is not a whole number of rows of {cols}.");
        }
        return x.Length / cols;
    }
}
