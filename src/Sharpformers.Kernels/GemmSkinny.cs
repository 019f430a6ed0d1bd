using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sharpformers.Kernels;

/// <summary>
/// GEMMs with so few rows of C that packing B would cost as much as the product (every element of B is
/// used by at most a handful of rows): a pooler or classifier at batch 1, one query token. B is read in
/// place. Row-major B (op(B) rows are stored rows) goes through the ordinary micro-kernel with the B
/// stride set to ldb (only the last partial panel is copied, so no read runs past the span). Transposed
/// B (y = x·Wᵀ with W stored (out, in)) is a set of dot products over contiguous rows of W.
/// Threads split the columns; each C element is summed in the same order whatever the thread count.
/// </summary>
internal static unsafe class GemmSkinny<TK> where TK : struct, IGemmKernelSet
{
    /// <summary>Largest m sent here when B is transposed (dot products); row-major B takes up to one MR panel.</summary>
    public const int MaxRowsTransposedB = 4;

    [ThreadStatic]
    private static SkinnyJob? cachedJob;

    public static bool Handles(int m, Transpose transB) => transB == Transpose.Yes ? m <= MaxRowsTransposedB : m <= TK.MR;

    public static void Run(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float* bias, float beta, float* c, nint ldc, int threads)
    {
        // Column chunks: whole panels for the kernel path, 64 columns (16 dot groups) for dot products.
        int chunkColumns = transB == Transpose.No ? TK.PanelWidth * 2 : 64;
        int chunks = (n + chunkColumns - 1) / chunkColumns;
        var job = cachedJob ?? new SkinnyJob();
        cachedJob = null;
        try
        {
            job.TransA = transA;
            job.TransB = transB;
            job.M = m;
            job.N = n;
            job.K = k;
            job.Alpha = alpha;
            job.Beta = beta;
            job.A = a;
            job.Lda = lda;
            job.B = b;
            job.Ldb = ldb;
            job.Bias = bias;
            job.C = c;
            job.Ldc = ldc;
            job.ChunkColumns = chunkColumns;
            if (threads == 1 || chunks == 1)
            {
                for (int i = 0; i < chunks; i++) job.Invoke(i);
            }
            else
            {
                KernelParallel.For(chunks, job);
            }
        }
        finally
        {
            cachedJob = job;
        }
    }

    /// <summary>Columns [col0, col1) of C through the micro-kernel, B rows read at stride ldb.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelColumns(SkinnyJob p, int col0, int col1)
    {
        nint rsA = p.TransA == Transpose.No ? p.Lda : 1;
        nint csA = p.TransA == Transpose.No ? 1 : p.Lda;
        int granule = TK.Granule;
        int col = col0;
        while (col < col1)
        {
            int cols = Math.Min(TK.PanelWidth, col1 - col);
            int width = (cols + granule - 1) / granule * granule;
            if (width == cols)
            {
                TK.Tile(width, p.K, p.A, rsA, csA, p.M, p.B + col, p.Ldb, p.C + col, p.Ldc, cols, p.Alpha, p.Beta, p.Bias is null ? null : p.Bias + col);
            }
            else
            {
                // The ragged last panel: copy it zero-padded so the kernel's whole-vector loads stay in bounds.
                var tail = GemmScratch.RentTail((long)p.K * width);
                try
                {
                    float* t = tail.Pointer;
                    for (int q = 0; q < p.K; q++)
                    {
                        float* src = p.B + q * p.Ldb + col;
                        float* dst = t + q * width;
                        for (int j = 0; j < cols; j++) dst[j] = src[j];
                        for (int j = cols; j < width; j++) dst[j] = 0f;
                    }
                    TK.Tile(width, p.K, p.A, rsA, csA, p.M, t, width, p.C + col, p.Ldc, cols, p.Alpha, p.Beta, p.Bias is null ? null : p.Bias + col);
                }
                finally
                {
                    GemmScratch.ReturnTail(tail);
                }
            }
            col += cols;
        }
    }

    /// <summary>C[i, j] = alpha · dot(op(A) row i, B row j) + beta · C[i, j] for columns [col0, col1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotColumns(SkinnyJob p, int col0, int col1)
    {
        int k = p.K;
        // op(A) rows must be contiguous for the dot products: gather them when A is transposed.
        AlignedBuffer? gathered = null;
        float* rows0 = p.A;
        nint rowStride = p.Lda;
        if (p.TransA == Transpose.Yes)
        {
            gathered = GemmScratch.RentTail((long)p.M * k);
            for (int i = 0; i < p.M; i++)
            {
                for (int q = 0; q < k; q++) gathered.Pointer[(long)i * k + q] = p.A[q * p.Lda + i];
            }
            rows0 = gathered.Pointer;
            rowStride = k;
        }
        try
        {
            for (int i = 0; i < p.M; i++)
            {
                float* aRow = rows0 + i * rowStride;
                float* cRow = p.C + i * p.Ldc;
                int j = col0;
                for (; j + 4 <= col1; j += 4)
                {
                    Dot4(aRow, p.B + j * p.Ldb, p.Ldb, k, out float d0, out float d1, out float d2, out float d3);
                    cRow[j] = Epilogue(d0, cRow[j], p, j);
                    cRow[j + 1] = Epilogue(d1, cRow[j + 1], p, j + 1);
                    cRow[j + 2] = Epilogue(d2, cRow[j + 2], p, j + 2);
                    cRow[j + 3] = Epilogue(d3, cRow[j + 3], p, j + 3);
                }
                for (; j < col1; j++)
                {
                    cRow[j] = Epilogue(Dot1(aRow, p.B + j * p.Ldb, k), cRow[j], p, j);
                }
            }
        }
        finally
        {
            if (gathered is not null) GemmScratch.ReturnTail(gathered);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Epilogue(float dot, float prior, SkinnyJob p, int column)
    {
        float t = MathF.FusedMultiplyAdd(dot, p.Alpha, p.Bias is null ? 0f : p.Bias[column]);
        return p.Beta == 0f ? t : MathF.FusedMultiplyAdd(p.Beta, prior, t);
    }

    /// <summary>Four dot products of x against rows y, y + ld, y + 2ld, y + 3ld (x loaded once per step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(float* x, float* y, nint ld, int k, out float d0, out float d1, out float d2, out float d3)
    {
        float* y1 = y + ld, y2 = y + 2 * ld, y3 = y + 3 * ld;
        int q = 0;
        if (TK.Isa == GemmIsa.Avx512)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; q + 16 <= k; q += 16)
            {
                var xv = Vector512.Load(x + q);
                s0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y + q), s0);
                s1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y1 + q), s1);
                s2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y2 + q), s2);
                s3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(y3 + q), s3);
            }
            d0 = Vector512.Sum(s0);
            d1 = Vector512.Sum(s1);
            d2 = Vector512.Sum(s2);
            d3 = Vector512.Sum(s3);
        }
        else if (TK.Isa == GemmIsa.Avx2)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; q + 8 <= k; q += 8)
            {
                var xv = Vector256.Load(x + q);
                s0 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(y + q), s0);
                s1 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(y1 + q), s1);
                s2 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(y2 + q), s2);
                s3 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(y3 + q), s3);
            }
            d0 = Vector256.Sum(s0);
            d1 = Vector256.Sum(s1);
            d2 = Vector256.Sum(s2);
            d3 = Vector256.Sum(s3);
        }
        else
        {
            d0 = d1 = d2 = d3 = 0f;
        }
        for (; q < k; q++)
        {
            float xv = x[q];
            d0 += xv * y[q];
            d1 += xv * y1[q];
            d2 += xv * y2[q];
            d3 += xv * y3[q];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1(float* x, float* y, int k)
    {
        int q = 0;
        float d = 0f;
        if (TK.Isa == GemmIsa.Avx512)
        {
            Vector512<float> s = default;
            for (; q + 16 <= k; q += 16) s = Vector512.FusedMultiplyAdd(Vector512.Load(x + q), Vector512.Load(y + q), s);
            d = Vector512.Sum(s);
        }
        else if (TK.Isa == GemmIsa.Avx2)
        {
            Vector256<float> s = default;
            for (; q + 8 <= k; q += 8) s = Vector256.FusedMultiplyAdd(Vector256.Load(x + q), Vector256.Load(y + q), s);
            d = Vector256.Sum(s);
        }
        for (; q < k; q++) d += x[q] * y[q];
        return d;
    }

    private sealed class SkinnyJob : IParallelBody
    {
        public Transpose TransA;
        public Transpose TransB;
        public int M;
        public int N;
        public int K;
        public float Alpha;
        public float Beta;
        public float* A;
        public nint Lda;
        public float* B;
        public nint Ldb;
        public float* Bias;
        public float* C;
        public nint Ldc;
        public int ChunkColumns;

        public void Invoke(int index)
        {
            int col0 = index * ChunkColumns;
            int col1 = Math.Min(N, col0 + ChunkColumns);
            if (TransB == Transpose.No) KernelColumns(this, col0, col1);
            else DotColumns(this, col0, col1);
        }
    }
}
