using System.Diagnostics;

namespace Sharpformers.Kernels;

/// <summary>
/// The persistent threads behind <see cref="KernelParallel"/>. One parallel loop runs at a time: the
/// calling thread claims the pool, offers the loop to the workers it needs, runs items itself, then
/// waits only for workers that actually took the offer (an offer a sleeping worker has not picked up
/// by then is withdrawn, so a slow wake-up never delays the caller). A caller that finds the pool busy
/// (a concurrent caller, or a nested loop inside a loop body) gets <c>false</c> and runs inline.
/// Workers spin briefly after each loop, because kernels come in quick succession during a forward
/// pass, then block so an idle process costs no CPU.
/// </summary>
internal sealed class KernelWorkerPool
{
    /// <summary>
    /// How long an idle worker spins before blocking: long enough to bridge the gap between the kernels
    /// of a forward pass; none on a single CPU, where spinning would only steal the caller's time.
    /// </summary>
    private static readonly long SpinTicks = Environment.ProcessorCount > 1 ? Stopwatch.Frequency / 2_000 : 0; // 500 µs

    private static readonly object Taken = new();

    [ThreadStatic]
    private static bool isWorkerThread;

    private readonly object growLock = new();
    private Worker[] workers = [];
    private int busy;

    // The loop being run: valid while busy == 1. Items are claimed through nextItem.
    private IParallelBody? body;
    private int itemCount;
    private int nextItem;
    private int completedItems;
    private Exception? firstError;

    public static KernelWorkerPool Shared { get; } = new();

    /// <summary>True on the pool's own threads, where nested parallel loops must run inline.</summary>
    public static bool IsWorkerThread => isWorkerThread;

    /// <summary>
    /// Runs body.Invoke(i) for i in [0, count) on the caller plus up to <paramref name="helpers"/>
    /// workers. Returns false, having run nothing, when the pool is already in use.
    /// </summary>
    public bool TryRun(int count, int helpers, IParallelBody body)
    {
        if (isWorkerThread || Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            var team = EnsureWorkers(helpers);
            this.body = body;
            itemCount = count;
            completedItems = 0;
            firstError = null;
            Volatile.Write(ref nextItem, 0);
            helpers = Math.Min(helpers, count - 1);
            for (int w = 0; w < helpers; w++) team[w].Offer(this);
            RunItems();
            for (int w = 0; w < helpers; w++) team[w].WithdrawOrAwait(this);
            // Every item was claimed; the ones still running belong to workers awaited above.
            Debug.Assert(Volatile.Read(ref completedItems) == count);
            if (firstError is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
            return true;
        }
        finally
        {
            this.body = null;
            Volatile.Write(ref busy, 0);
        }
    }

    private void RunItems()
    {
        var work = body!;
        int count = itemCount;
        while (true)
        {
            int i = Interlocked.Increment(ref nextItem) - 1;
            if (i >= count) return;
            try
            {
                if (firstError is null) work.Invoke(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref firstError, e, null);
            }
            Interlocked.Increment(ref completedItems);
        }
    }

    private Worker[] EnsureWorkers(int needed)
    {
        var current = workers;
        if (current.Length >= needed) return current;
        lock (growLock)
        {
            if (workers.Length < needed)
            {
                var grown = new Worker[needed];
                Array.Copy(workers, grown, workers.Length);
                for (int i = workers.Length; i < needed; i++) grown[i] = new Worker(i);
                Volatile.Write(ref workers, grown);
            }
            return workers;
        }
    }

    /// <summary>One pool thread with its own offer slot (null: idle; a pool: offered; Taken: running).</summary>
    private sealed class Worker
    {
        private object? slot;
        private int sleeping;

        public Worker(int index)
        {
            var thread = new Thread(Loop)
            {
                IsBackground = true,
                Name = $"Sharpformers kernel worker {index + 1}",
            };
            thread.Start();
        }

        public void Offer(KernelWorkerPool pool)
        {
            Interlocked.Exchange(ref slot, pool); // full fence before reading `sleeping` (pairs with Loop)
            if (Volatile.Read(ref sleeping) != 0)
            {
                lock (this) Monitor.Pulse(this);
            }
        }

        /// <summary>Withdraws an offer the worker has not taken, or waits until it has finished the loop.</summary>
        public void WithdrawOrAwait(KernelWorkerPool pool)
        {
            if (Interlocked.CompareExchange(ref slot, null, pool) == pool) return;
            var spinner = new SpinWait();
            while (Volatile.Read(ref slot) is not null) spinner.SpinOnce(sleep1Threshold: -1);
        }

        private void Loop()
        {
            isWorkerThread = true;
            while (true)
            {
                var pool = WaitForOffer();
                if (Interlocked.CompareExchange(ref slot, Taken, pool) != pool) continue; // withdrawn meanwhile
                pool.RunItems();
                Volatile.Write(ref slot, null);
            }
        }

        private KernelWorkerPool WaitForOffer()
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            int spins = 0;
            while (true)
            {
                if (Volatile.Read(ref slot) is KernelWorkerPool offered) return offered;
                if (++spins < 64 || Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                lock (this)
                {
                    Interlocked.Exchange(ref sleeping, 1); // full fence before re-reading the slot
                    if (Volatile.Read(ref slot) is not KernelWorkerPool) Monitor.Wait(this);
                    Volatile.Write(ref sleeping, 0);
                }
                spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
                spins = 0;
            }
        }
    }
}
