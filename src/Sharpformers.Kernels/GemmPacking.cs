using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// How op(B) (k, n) is laid out once packed. k is cut into blocks of <see cref="KcBlock"/> rows (the
/// last may be shorter); within a block, columns are cut into panels of the kernel set's panel width
/// (the last rounded up to a whole vector and zero-padded), and each panel is stored row after row,
/// so the micro-kernel reads it as one contiguous stream. Block b starts at b·KcBlock·PaddedColumns.
/// </summary>
internal readonly record struct GemmLayout(int K, int N, int KcBlock, int PanelWidth, int Granule)
{
    /// <summary>The deepest k block: an 8-row A micro-panel of it (16 KB) stays in L1 beside the B stream.</summary>
    public const int MaxKcBlock = 512;

    public static GemmLayout For<TK>(int k, int n) where TK : struct, IGemmKernelSet
    {
        int blocks = Math.Max(1, (k + MaxKcBlock - 1) / MaxKcBlock);
        int kc = Math.Max(1, (k + blocks - 1) / blocks);
        return new GemmLayout(k, n, kc, TK.PanelWidth, TK.Granule);
    }

    public int PaddedColumns => (N + Granule - 1) / Granule * Granule;

    public int KBlocks => K == 0 ? 0 : (K + KcBlock - 1) / KcBlock;

    public int Panels => (N + PanelWidth - 1) / PanelWidth;

    public long PackedLength => (long)K * PaddedColumns;

    public int BlockDepth(int block) => Math.Min(KcBlock, K - block * KcBlock);

    /// <summary>Width of panel j as stored (a multiple of the granule).</summary>
    public int PanelStoredWidth(int panel)
    {
        int remaining = N - panel * PanelWidth;
        return remaining >= PanelWidth ? PanelWidth : (remaining + Granule - 1) / Granule * Granule;
    }

    /// <summary>Offset of (block, panel) in the packed buffer.</summary>
    public long PanelOffset(int block, int panel) =>
        (long)block * KcBlock * PaddedColumns + (long)panel * PanelWidth * BlockDepth(block);
}

/// <summary>Copies operands into the layouts the micro-kernels stream through.</summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs panels [panel0, panel1) of k block <paramref name="block"/> of op(B) into <paramref name="packed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(in GemmLayout layout, Transpose transB, float* b, nint ldb, int block, int panel0, int panel1, float* packed)
    {
        int k0 = block * layout.KcBlock;
        int depth = layout.BlockDepth(block);
        for (int panel = panel0; panel < panel1; panel++)
        {
            int col0 = panel * layout.PanelWidth;
            int width = layout.PanelStoredWidth(panel);
            int cols = Math.Min(width, layout.N - col0);
            float* dst = packed + layout.PanelOffset(block, panel);
            if (transB == Transpose.No)
            {
                PackRows(b + k0 * ldb + col0, ldb, depth, cols, width, dst);
            }
            else
            {
                PackTransposed(b + col0 * ldb + k0, ldb, depth, cols, width, dst);
            }
        }
    }

    /// <summary>dst[p, 0..width) = src[p·ld + 0..cols), zero past cols: op(B) rows are stored rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows(float* src, nint ld, int depth, int cols, int width, float* dst)
    {
        for (int p = 0; p < depth; p++)
        {
            float* s = src + p * ld;
            float* d = dst + p * width;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= cols; j += 16) Vector512.Store(Vector512.Load(s + j), d + j);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= cols; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
            }
            for (; j < cols; j++) d[j] = s[j];
            for (; j < width; j++) d[j] = 0f;
        }
    }

    /// <summary>dst[p, j] = src[j·ld + p] for j &lt; cols, zero past cols: op(B) rows are stored columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed(float* src, nint ld, int depth, int cols, int width, float* dst)
    {
        int j = 0;
        if (Avx512F.IsSupported)
        {
            for (; j + 16 <= cols; j += 16)
            {
                int p = 0;
                for (; p + 16 <= depth; p += 16) Transpose16x16(src + j * ld + p, ld, dst + p * width + j, width);
                for (; p < depth; p++)
                {
                    for (int jj = j; jj < j + 16; jj++) dst[p * width + jj] = src[jj * ld + p];
                }
            }
        }
        for (; j < cols; j++)
        {
            float* s = src + j * ld;
            for (int p = 0; p < depth; p++) dst[p * width + j] = s[p];
        }
        for (; j < width; j++)
        {
            for (int p = 0; p < depth; p++) dst[p * width + j] = 0f;
        }
    }

    /// <summary>d[q·ldd + r] = s[r·lds + q] for a 16×16 block, in registers: 32-bit and 64-bit interleaves, then two 128-bit lane shuffles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16x16(float* s, nint lds, float* d, nint ldd)
    {
        Vector512<float> r0 = Vector512.Load(s + 0 * lds);
        Vector512<float> r1 = Vector512.Load(s + 1 * lds);
        Vector512<float> r2 = Vector512.Load(s + 2 * lds);
        Vector512<float> r3 = Vector512.Load(s + 3 * lds);
        Vector512<float> r4 = Vector512.Load(s + 4 * lds);
        Vector512<float> r5 = Vector512.Load(s + 5 * lds);
        Vector512<float> r6 = Vector512.Load(s + 6 * lds);
        Vector512<float> r7 = Vector512.Load(s + 7 * lds);
        Vector512<float> r8 = Vector512.Load(s + 8 * lds);
        Vector512<float> r9 = Vector512.Load(s + 9 * lds);
        Vector512<float> r10 = Vector512.Load(s + 10 * lds);
        Vector512<float> r11 = Vector512.Load(s + 11 * lds);
        Vector512<float> r12 = Vector512.Load(s + 12 * lds);
        Vector512<float> r13 = Vector512.Load(s + 13 * lds);
        Vector512<float> r14 = Vector512.Load(s + 14 * lds);
        Vector512<float> r15 = Vector512.Load(s + 15 * lds);
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        Vector512<double> t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        Vector512<double> t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5).AsDouble();
        Vector512<double> t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7).AsDouble();
        Vector512<double> t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        Vector512<double> t8 = Avx512F.UnpackLow(r8, r9).AsDouble();
        Vector512<double> t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        Vector512<double> t10 = Avx512F.UnpackLow(r10, r11).AsDouble();
        Vector512<double> t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        Vector512<double> t12 = Avx512F.UnpackLow(r12, r13).AsDouble();
        Vector512<double> t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        Vector512<double> t14 = Avx512F.UnpackLow(r14, r15).AsDouble();
        Vector512<double> t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();
        Vector512<float> u0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        Vector512<float> u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        Vector512<float> u2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        Vector512<float> u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        Vector512<float> u4 = Avx512F.UnpackLow(t4, t6).AsSingle();
        Vector512<float> u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        Vector512<float> u6 = Avx512F.UnpackLow(t5, t7).AsSingle();
        Vector512<float> u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        Vector512<float> u8 = Avx512F.UnpackLow(t8, t10).AsSingle();
        Vector512<float> u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        Vector512<float> u10 = Avx512F.UnpackLow(t9, t11).AsSingle();
        Vector512<float> u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        Vector512<float> u12 = Avx512F.UnpackLow(t12, t14).AsSingle();
        Vector512<float> u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        Vector512<float> u14 = Avx512F.UnpackLow(t13, t15).AsSingle();
        Vector512<float> u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();
        Vector512<float> x0 = Avx512F.Shuffle4x128(u0, u4, 0x88);
        Vector512<float> y0 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        Vector512<float> z0 = Avx512F.Shuffle4x128(u8, u12, 0x88);
        Vector512<float> w0 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        Vector512.Store(Avx512F.Shuffle4x128(x0, z0, 0x88), d + 0 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y0, w0, 0x88), d + 4 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(x0, z0, 0xDD), d + 8 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y0, w0, 0xDD), d + 12 * ldd);
        Vector512<float> x1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        Vector512<float> y1 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        Vector512<float> z1 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        Vector512<float> w1 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        Vector512.Store(Avx512F.Shuffle4x128(x1, z1, 0x88), d + 1 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y1, w1, 0x88), d + 5 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(x1, z1, 0xDD), d + 9 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y1, w1, 0xDD), d + 13 * ldd);
        Vector512<float> x2 = Avx512F.Shuffle4x128(u2, u6, 0x88);
        Vector512<float> y2 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        Vector512<float> z2 = Avx512F.Shuffle4x128(u10, u14, 0x88);
        Vector512<float> w2 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        Vector512.Store(Avx512F.Shuffle4x128(x2, z2, 0x88), d + 2 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y2, w2, 0x88), d + 6 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(x2, z2, 0xDD), d + 10 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y2, w2, 0xDD), d + 14 * ldd);
        Vector512<float> x3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        Vector512<float> y3 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        Vector512<float> z3 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        Vector512<float> w3 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Vector512.Store(Avx512F.Shuffle4x128(x3, z3, 0x88), d + 3 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y3, w3, 0x88), d + 7 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(x3, z3, 0xDD), d + 11 * ldd);
        Vector512.Store(Avx512F.Shuffle4x128(y3, w3, 0xDD), d + 15 * ldd);
    }

    /// <summary>
    /// Packs MR-row panels [panel0, panel1) of op(A) = Aᵀ (A stored (k, m)) for k block
    /// <paramref name="block"/>: panel i holds depth steps of MR values, packed[p·MR + r] = A[k0 + p, i·MR + r].
    /// Reads A row by row (contiguous), so the hardware prefetcher streams it; rows past m are left unset
    /// (the kernel never reads them: rows past the edge alias row 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackTransposedA(in GemmLayout layout, int m, int mr, float* a, nint lda, int block, int panel0, int panel1, float* packed)
    {
        int k0 = block * layout.KcBlock;
        int depth = layout.BlockDepth(block);
        long blockBase = (long)block * layout.KcBlock * PaddedRows(m, mr);
        bool vector8 = mr == 8 && Vector256.IsHardwareAccelerated;
        for (int i = panel0; i < panel1; i++)
        {
            float* d = packed + blockBase + (long)i * mr * depth;
            float* s = a + k0 * lda + i * mr;
            int rows = Math.Min(mr, m - i * mr);
            if (vector8 && rows == 8)
            {
                for (int p = 0; p < depth; p++) Vector256.Store(Vector256.Load(s + p * lda), d + p * 8);
            }
            else
            {
                for (int p = 0; p < depth; p++)
                {
                    for (int r = 0; r < rows; r++) d[p * mr + r] = s[p * lda + r];
                }
            }
        }
    }

    /// <summary>m rounded up to whole MR-row panels.</summary>
    public static int PaddedRows(int m, int mr) => (m + mr - 1) / mr * mr;
}
