namespace Sharpformers.Kernels;

/// <summary>The body of a parallel loop, for callers that want to reuse one object instead of allocating a delegate per loop.</summary>
public interface IParallelBody
{
    /// <summary>Runs item <paramref name="index"/>; items may run concurrently and in any order.</summary>
    void Invoke(int index);
}

/// <summary>
/// The degree of parallelism every multi-threaded kernel uses, and the one place work is split across
/// threads, so a benchmark can pin a run to 1 or 2 threads. Loops run on a persistent worker pool
/// (<see cref="KernelWorkerPool"/>) with the calling thread taking part; no tasks are allocated per
/// loop. Nested loops (a loop body that itself calls <see cref="For(int, Action{int})"/>) and loops
/// started while another thread's loop holds the pool run inline on the calling thread, so concurrent
/// callers never deadlock.
/// </summary>
public static class KernelParallel
{
    private static int maxThreads = Environment.ProcessorCount;

    [ThreadStatic]
    private static ActionBody? cachedActionBody;

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

    /// <summary>
    /// Threads a loop started now would actually get: 1 on a pool thread (nested loops run inline),
    /// otherwise <see cref="MaxThreads"/>. Kernels use it to size their work split.
    /// </summary>
    public static int AvailableThreads => KernelWorkerPool.IsWorkerThread ? 1 : maxThreads;

    /// <summary>Runs body(i) for i in [0, count), on up to <see cref="MaxThreads"/> threads; returns when all are done.</summary>
    public static void For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        if (count == 1 || maxThreads == 1 || KernelWorkerPool.IsWorkerThread)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        var wrapper = cachedActionBody ?? new ActionBody();
        cachedActionBody = null; // a nested loop on this thread gets its own wrapper
        try
        {
            wrapper.Action = body;
            For(count, wrapper);
        }
        finally
        {
            wrapper.Action = null;
            cachedActionBody = wrapper;
        }
    }

    /// <summary>
    /// Runs body.Invoke(i) for i in [0, count) on up to <see cref="MaxThreads"/> threads; returns when
    /// all are done. The first exception thrown by an item is rethrown here (remaining items are skipped).
    /// </summary>
    public static void For(int count, IParallelBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        int threads = Math.Min(maxThreads, count);
        if (threads > 1 && KernelWorkerPool.Shared.TryRun(count, threads - 1, body)) return;
        for (int i = 0; i < count; i++) body.Invoke(i);
    }

    private sealed class ActionBody : IParallelBody
    {
        public Action<int>? Action;

        public void Invoke(int index) => Action!(index);
    }
}
