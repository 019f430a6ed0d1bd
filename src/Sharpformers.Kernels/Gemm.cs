using System.Runtime.CompilerServices;
namespace Sharpformers.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major spans, destination last:
/// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C.
/// When beta is 0, C is overwritten (whatever it held, NaN included), as in BLAS; when alpha is 0 or
/// k is 0, A and B are not read and C = beta · C.
/// Packed, cache-blocked and multi-threaded over <see cref="KernelParallel.MaxThreads"/> (see
/// GemmDriver and GemmRunner); AVX-512, AVX2+FMA or scalar micro-kernels chosen at run time. Results
/// do not depend on the thread count: every element of C is summed in the same order whichever thread
/// computes it. <see cref="GemmReference"/> is the naive version it is tested against.
/// </summary>
public static class Gemm
{
    /// <summary>Below this many multiply-adds a GEMM runs on one thread (a hand-off costs a few µs).</summary>
    private const long ParallelMinMacs = 1L << 20;

    [ThreadStatic]
    private static BatchJob? cachedBatchJob;

    /// <summary>The instruction set the fast paths use on this machine.</summary>
    public static GemmIsa Isa => GemmDispatch.Current;

    public static void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc) =>
        Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, ReadOnlySpan<float>.Empty, beta, c, ldc);

    /// <summary>
    /// C (m, n) = alpha · op(A) · op(B) + bias + beta · C, with <paramref name="bias"/> (n values, or
    /// empty for none) added to every row inside the kernel's epilogue (no extra pass over C): a
    /// linear layer's y = x·Wᵀ + b in one call.
    /// </summary>
    public static unsafe void Sgemm(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        ReadOnlySpan<float> bias, float beta, Span<float> c, int ldc)
    {
        GemmChecks.Dimensions(m, n, k);
        GemmChecks.Operand(transA, m, k, a.Length, lda, nameof(a));
        GemmChecks.Operand(transB, k, n, b.Length, ldb, nameof(b));
        GemmChecks.Bias(n, bias.Length);
        GemmChecks.Destination(m, n, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        {
            Run(GemmDispatch.Current, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, bias.IsEmpty ? null : pbias, beta, pc, ldc, ThreadsFor(m, n, k));
        }
    }

    /// <summary>
    /// Packs op(B) (k, n) once for <see cref="Sgemm(Transpose, int, int, int, float, ReadOnlySpan{float}, int, PackedMatrix, float, Span{float}, int)"/>.
    /// For a weight W stored (out, in) used as y = x·Wᵀ: <c>PackB(Transpose.Yes, in, out, W, in)</c>.
    /// </summary>
    public static unsafe PackedMatrix PackB(Transpose transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        if (k < 0) KernelThrow.Argument(nameof(k), "k must be non-negative.");
        if (n < 0) KernelThrow.Argument(nameof(n), "n must be non-negative.");
        GemmChecks.Operand(transB, k, n, b.Length, ldb, nameof(b));
        var isa = GemmDispatch.Current;
        var layout = isa switch
        {
            GemmIsa.Avx512 => GemmLayout.For<GemmKernelsAvx512>(k, n),
            GemmIsa.Avx2 => GemmLayout.For<GemmKernelsAvx2>(k, n),
            _ => GemmLayout.For<GemmKernelsScalar>(k, n),
        };
        var data = new NativeWeightBuffer(layout.PackedLength * sizeof(float));
        if (layout.PackedLength > 0)
        {
            fixed (float* pb = b)
            {
                int threads = KernelParallel.AvailableThreads;
                switch (isa)
                {
                    case GemmIsa.Avx512:
                        GemmRunner<GemmKernelsAvx512>.PackB(layout, transB, pb, ldb, (float*)data.Pointer, threads);
                        break;
                    case GemmIsa.Avx2:
                        GemmRunner<GemmKernelsAvx2>.PackB(layout, transB, pb, ldb, (float*)data.Pointer, threads);
                        break;
                    default:
                        GemmRunner<GemmKernelsScalar>.PackB(layout, transB, pb, ldb, (float*)data.Pointer, threads);
                        break;
                }
            }
        }
        return new PackedMatrix(layout, isa, data);
    }

    /// <summary>C (m, n) = alpha · op(A) (m, k) · B (k, n) + beta · C, with B packed by <see cref="PackB"/>.</summary>
    public static void Sgemm(
        Transpose transA, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, PackedMatrix b,
        float beta, Span<float> c, int ldc) =>
        Sgemm(transA, m, n, k, alpha, a, lda, b, ReadOnlySpan<float>.Empty, beta, c, ldc);

    /// <summary>
    /// C (m, n) = alpha · op(A) (m, k) · B (k, n) + bias + beta · C, with B packed by <see cref="PackB"/>
    /// and <paramref name="bias"/> (n values, or empty) added in the epilogue: y = x·Wᵀ + b for a
    /// linear layer whose W was packed at load time.
    /// </summary>
    public static void Sgemm(
        Transpose transA, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, PackedMatrix b,
        ReadOnlySpan<float> bias, float beta, Span<float> c, int ldc) =>
        Sgemm(transA, m, n, k, alpha, a, lda, b, bias, beta, c, ldc, EpilogueActivation.None);

    /// <summary>
    /// C (m, n) = act(alpha · op(A) (m, k) · B (k, n) + bias + beta · C), with B packed by <see cref="PackB"/>:
    /// the activation is applied to each micro-tile while it is in cache (a linear layer and its GELU in
    /// one pass), with the same bits as <see cref="Activations"/> applied afterwards.
    /// </summary>
    public static unsafe void Sgemm(
        Transpose transA, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, PackedMatrix b,
        ReadOnlySpan<float> bias, float beta, Span<float> c, int ldc, EpilogueActivation activation)
    {
        ArgumentNullException.ThrowIfNull(b);
        GemmChecks.Dimensions(m, n, k);
        if (b.Rows != k || b.Columns != n)
        {
            KernelThrow.Argument(nameof(b), $"Packed matrix is ({b.Rows}, {b.Columns}) but the product needs op(B) of shape ({k}, {n}).");
        }
        GemmChecks.Operand(transA, m, k, a.Length, lda, nameof(a));
        GemmChecks.Bias(n, bias.Length);
        GemmChecks.Destination(m, n, c.Length, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        {
            float* biasPointer = bias.IsEmpty ? null : pbias;
            if (k == 0 || alpha == 0f)
            {
                ScaleC(m, n, beta, biasPointer, pc, ldc);
                if (activation != EpilogueActivation.None) GemmEpilogue.Apply(activation, pc, ldc, m, n);
                return;
            }
            int threads = ThreadsFor(m, n, k);
            switch (b.Isa)
            {
                case GemmIsa.Avx512:
                    GemmRunner<GemmKernelsAvx512>.RunPacked(transA, m, alpha, pa, lda, b, biasPointer, beta, pc, ldc, activation, threads);
                    break;
                case GemmIsa.Avx2:
                    GemmRunner<GemmKernelsAvx2>.RunPacked(transA, m, alpha, pa, lda, b, biasPointer, beta, pc, ldc, activation, threads);
                    break;
                default:
                    GemmRunner<GemmKernelsScalar>.RunPacked(transA, m, alpha, pa, lda, b, biasPointer, beta, pc, ldc, activation, threads);
                    break;
            }
        }
    }

    /// <summary>
    /// <paramref name="batchCount"/> independent SGEMMs; operand i starts at i · stride in each span
    /// (attention: per (batch, head) QKᵀ and P·V; items may interleave, e.g. head h writing columns
    /// h·D..h·D+D of a (T, H·D) context with ldc = H·D and strideC = D). Items may run concurrently, so
    /// the C items must not overlap. Small products run one per thread, large ones one after another
    /// with each split across threads.
    /// </summary>
    public static unsafe void SgemmStridedBatched(
        Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batchCount)
    {
        GemmChecks.Dimensions(m, n, k);
        if (batchCount < 0) KernelThrow.Argument(nameof(batchCount), "batchCount must be non-negative.");
        GemmChecks.Batch(transA, m, k, a.Length, lda, strideA, batchCount, nameof(a));
        GemmChecks.Batch(transB, k, n, b.Length, ldb, strideB, batchCount, nameof(b));
        GemmChecks.BatchDestination(m, n, c.Length, ldc, strideC, batchCount);
        if (m == 0 || n == 0 || batchCount == 0) return;
        var isa = GemmDispatch.Current;
        int threads = KernelParallel.AvailableThreads;
        long macs = (long)m * n * k;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (threads == 1 || batchCount == 1 || macs >= ParallelMinMacs * 8)
            {
                int inner = ThreadsFor(m, n, k);
                for (int i = 0; i < batchCount; i++)
                {
                    Run(isa, transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, null, beta, pc + i * strideC, ldc, inner);
                }
                return;
            }
            var job = cachedBatchJob ?? new BatchJob();
            cachedBatchJob = null;
            try
            {
                job.Isa = isa;
                job.TransA = transA;
                job.TransB = transB;
                job.M = m;
                job.N = n;
                job.K = k;
                job.Alpha = alpha;
                job.Beta = beta;
                job.A = pa;
                job.Lda = lda;
                job.StrideA = strideA;
                job.B = pb;
                job.Ldb = ldb;
                job.StrideB = strideB;
                job.C = pc;
                job.Ldc = ldc;
                job.StrideC = strideC;
                KernelParallel.For(batchCount, job);
            }
            finally
            {
                cachedBatchJob = job;
            }
        }
    }

    /// <summary>Threads worth using for an m×n×k product: one below ~1 M multiply-adds (a few µs of work).</summary>
    internal static int ThreadsFor(int m, int n, int k) =>
        (long)m * n * k < ParallelMinMacs ? 1 : KernelParallel.AvailableThreads;

    private static unsafe void Run(GemmIsa isa, Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float* bias, float beta, float* c, nint ldc, int threads)
    {
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, bias, c, ldc);
            return;
        }
        switch (isa)
        {
            case GemmIsa.Avx512:
                Run<GemmKernelsAvx512>(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, beta, c, ldc, threads);
                break;
            case GemmIsa.Avx2:
                Run<GemmKernelsAvx2>(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, beta, c, ldc, threads);
                break;
            default:
                Run<GemmKernelsScalar>(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, beta, c, ldc, threads);
                break;
        }
    }

    private static unsafe void Run<TK>(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float* bias, float beta, float* c, nint ldc, int threads)
        where TK : struct, IGemmKernelSet
    {
        if (GemmSkinny<TK>.Handles(m, transB))
        {
            GemmSkinny<TK>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, beta, c, ldc, threads);
        }
        else
        {
            GemmRunner<TK>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, beta, c, ldc, threads);
        }
    }

    /// <summary>C = beta · C + bias without a product (alpha or k is 0: A and B are not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ScaleC(int m, int n, float beta, float* bias, float* c, nint ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f)
            {
                for (int j = 0; j < row.Length; j++) row[j] *= beta;
            }
            if (bias is not null)
            {
                for (int j = 0; j < row.Length; j++) row[j] += bias[j];
            }
        }
    }

    /// <summary>Item i of a strided batch, run single-threaded on whichever pool thread takes it.</summary>
    private sealed unsafe class BatchJob : IParallelBody
    {
        public GemmIsa Isa;
        public Transpose TransA;
        public Transpose TransB;
        public int M;
        public int N;
        public int K;
        public float Alpha;
        public float Beta;
        public float* A;
        public nint Lda;
        public long StrideA;
        public float* B;
        public nint Ldb;
        public long StrideB;
        public float* C;
        public nint Ldc;
        public long StrideC;

        public void Invoke(int index) =>
            Run(Isa, TransA, TransB, M, N, K, Alpha, A + index * StrideA, Lda, B + index * StrideB, Ldb, null, Beta, C + index * StrideC, Ldc, threads: 1);
    }
}
