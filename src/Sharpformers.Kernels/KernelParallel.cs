namespace Sharpformers.Kernels;

/// <summary>
/// The degree of parallelism every multi-threaded kernel uses, and the one place work is split across
/// threads, so a benchmark can pin a run to 1 or 2 threads.
/// </summary>
public static class KernelParallel
{
    private static int maxThreads = Environment.ProcessorCount;

    /// <summary>Threads kernels may use (default: the processor count; SHARPFORMERS_NUM_THREADS overrides).</summary>
    public static int MaxThreads
    {
        get => maxThreads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "MaxThreads must be at least 1.");
            maxThreads = value;
        }
    }

    static KernelParallel()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("SHARPFORMERS_NUM_THREADS"), out int n) && n >= 1)
        {
            maxThreads = n;
        }
    }

    /// <summary>Runs body(i) for i in [0, count), on up to <see cref="MaxThreads"/> threads; returns when all are done.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || maxThreads == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, body);
    }
}
