using Sharpformers.Kernels;
using Xunit;
using static Sharpformers.Kernels.Tests.GemmTestSupport;

namespace Sharpformers.Kernels.Tests;

/// <summary>The worker pool behind <see cref="KernelParallel"/>: coverage, nesting, concurrency, errors.</summary>
[Collection(KernelThreadingCollection.Name)]
public sealed class KernelParallelTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 1000)]
    [InlineData(4, 37)]
    public void RunsEveryIndexExactlyOnce(int threads, int count)
    {
        WithThreads(threads, () =>
        {
            var hits = new int[count];
            KernelParallel.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        });
    }

    [Fact]
    public void UsesMoreThanOneThreadWhenAllowed()
    {
        WithThreads(2, () =>
        {
            // Items that wait for each other can only finish if two threads run them at once.
            using var bothStarted = new CountdownEvent(2);
            var threadIds = new int[2];
            KernelParallel.For(2, i =>
            {
                threadIds[i] = Environment.CurrentManagedThreadId;
                bothStarted.Signal();
                Assert.True(bothStarted.Wait(TimeSpan.FromSeconds(30)), "the second item never ran concurrently");
            });
            Assert.NotEqual(threadIds[0], threadIds[1]);
        });
    }

    [Fact]
    public void OneThreadRunsInlineOnTheCaller()
    {
        WithThreads(1, () =>
        {
            int caller = Environment.CurrentManagedThreadId;
            var seen = new HashSet<int>();
            KernelParallel.For(50, _ => { lock (seen) seen.Add(Environment.CurrentManagedThreadId); });
            Assert.Equal([caller], seen);
        });
    }

    [Fact]
    public void NestedLoopsCompleteAndCoverEverything()
    {
        WithThreads(2, () =>
        {
            var hits = new int[20, 30];
            KernelParallel.For(20, i => KernelParallel.For(30, j => Interlocked.Increment(ref hits[i, j])));
            foreach (int h in hits) Assert.Equal(1, h);
        });
    }

    [Fact]
    public void PropagatesTheFirstExceptionAndStaysUsable()
    {
        WithThreads(2, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                KernelParallel.For(100, i => { if (i == 42) throw new InvalidOperationException("item 42"); }));
            Assert.Equal("item 42", e.Message);
            int sum = 0;
            KernelParallel.For(100, i => Interlocked.Add(ref sum, i));
            Assert.Equal(4950, sum);
        });
    }

    [Fact]
    public void ReusableBodyObjectsWork()
    {
        WithThreads(2, () =>
        {
            var body = new SumBody(1000);
            for (int round = 0; round < 50; round++)
            {
                Array.Clear(body.Hits);
                KernelParallel.For(1000, body);
                Assert.All(body.Hits, h => Assert.Equal(1, h));
            }
        });
    }

    [Fact]
    public void ConcurrentCallersOfLoopsAndGemmNeitherDeadlockNorCorruptResults()
    {
        // Several threads hammer the pool at once: one gets it per loop, the others run inline.
        WithThreads(2, () =>
        {
            const int callers = 4;
            var failures = new List<string>();
            var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
            {
                try
                {
                    var rng = new Random(t);
                    for (int round = 0; round < 15; round++)
                    {
                        int m = 20 + rng.Next(120), n = 20 + rng.Next(120), k = 50 + rng.Next(200);
                        var a = Random(rng, m * k);
                        var b = Random(rng, k * n);
                        var got = new float[m * n];
                        var expected = new float[m * n];
                        Gemm.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, got, n);
                        GemmReference.Sgemm(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, expected, n);
                        AssertClose(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, new float[m * n], n, expected, got, $"caller {t}");
                        var hits = new int[500];
                        KernelParallel.For(500, i => Interlocked.Increment(ref hits[i]));
                        if (hits.Any(h => h != 1)) throw new InvalidOperationException($"caller {t}: a loop item ran {hits.First(h => h != 1)} times");
                    }
                }
                catch (Exception e)
                {
                    lock (failures) failures.Add(e.Message);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            foreach (var thread in threads)
            {
                Assert.True(thread.Join(TimeSpan.FromMinutes(2)), "a concurrent caller did not finish (deadlock?)");
            }
            Assert.Empty(failures);
        });
    }

    [Fact]
    public void RejectsFewerThanOneThread()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelParallel.MaxThreads = 0);
    }

    private sealed class SumBody(int count) : IParallelBody
    {
        public int[] Hits { get; } = new int[count];

        public void Invoke(int index) => Interlocked.Increment(ref Hits[index]);
    }
}
