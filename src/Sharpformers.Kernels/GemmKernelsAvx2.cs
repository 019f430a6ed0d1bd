using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// AVX2/FMA SGEMM micro-kernels for CPUs without AVX-512: a 6-row tile of C times a packed B panel 16 or
/// 8 columns wide (12 or 6 ymm accumulators, which with the B vectors and the broadcast fill the 16
/// ymm registers). Same contract as <see cref="GemmKernelsAvx512"/>.
/// </summary>
internal readonly unsafe struct GemmKernelsAvx2 : IGemmKernelSet
{
    public static int MR => 6;

    public static int PanelWidth => 16;

    public static int Granule => 8;

    public static GemmIsa Isa => GemmIsa.Avx2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int width, int kc, float* a, nint rsA, nint csA, int rows, float* b, nint bStride, float* c, nint ldc, int cols, float alpha, float beta, float* bias)
    {
        if (width == 16) Tile16(kc, a, rsA, csA, rows, b, bStride, c, ldc, cols, alpha, beta, bias);
        else Tile8(kc, a, rsA, csA, rows, b, bStride, c, ldc, cols, alpha, beta, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MaskLoad(float* address, Vector256<float> mask) => Avx.MaskLoad(address, mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskStore(float* address, Vector256<float> mask, Vector256<float> value) => Avx.MaskStore(address, mask, value);

    /// <summary>C[rows, cols] = alpha · A[rows, kc] · Bpanel[kc, 16] + bias + beta · C, rows ≤ 6, 8 &lt; cols ≤ 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile16(int kc, float* a, nint rsA, nint csA, int rows, float* b, nint bStride, float* c, nint ldc, int cols, float alpha, float beta, float* bias)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a + 1 * rsA : a;
        float* a2 = rows > 2 ? a + 2 * rsA : a;
        float* a3 = rows > 3 ? a + 3 * rsA : a;
        float* a4 = rows > 4 ? a + 4 * rsA : a;
        float* a5 = rows > 5 ? a + 5 * rsA : a;
        Vector256<float> c00 = default; Vector256<float> c01 = default;
        Vector256<float> c10 = default; Vector256<float> c11 = default;
        Vector256<float> c20 = default; Vector256<float> c21 = default;
        Vector256<float> c30 = default; Vector256<float> c31 = default;
        Vector256<float> c40 = default; Vector256<float> c41 = default;
        Vector256<float> c50 = default; Vector256<float> c51 = default;
        // One induction variable (the A offset) doubles as the loop counter: the 8 row pointers,
        // the B pointer and the strides already take most general-purpose registers.
        nint ao = 0;
        nint aoEnd = kc * csA;
        while (ao != aoEnd)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> x0 = Vector256.Create(a0[ao]);
            c00 = Fma.MultiplyAdd(x0, b0, c00);
            c01 = Fma.MultiplyAdd(x0, b1, c01);
            Vector256<float> x1 = Vector256.Create(a1[ao]);
            c10 = Fma.MultiplyAdd(x1, b0, c10);
            c11 = Fma.MultiplyAdd(x1, b1, c11);
            Vector256<float> x2 = Vector256.Create(a2[ao]);
            c20 = Fma.MultiplyAdd(x2, b0, c20);
            c21 = Fma.MultiplyAdd(x2, b1, c21);
            Vector256<float> x3 = Vector256.Create(a3[ao]);
            c30 = Fma.MultiplyAdd(x3, b0, c30);
            c31 = Fma.MultiplyAdd(x3, b1, c31);
            Vector256<float> x4 = Vector256.Create(a4[ao]);
            c40 = Fma.MultiplyAdd(x4, b0, c40);
            c41 = Fma.MultiplyAdd(x4, b1, c41);
            Vector256<float> x5 = Vector256.Create(a5[ao]);
            c50 = Fma.MultiplyAdd(x5, b0, c50);
            c51 = Fma.MultiplyAdd(x5, b1, c51);
            ao += csA;
            b += bStride;
        }

        Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - 8)).AsSingle();
        Vector256<float> va = Vector256.Create(alpha);
        // The bias (one value per column, null for none) rides on the alpha scaling: t = acc·alpha + bias.
        Vector256<float> d0 = bias is null ? default : Vector256.Load(bias + 0);
        Vector256<float> d1 = bias is null ? default : MaskLoad(bias + 8, mask);
        if (beta == 0f)
        {
            Vector256.Store(Fma.MultiplyAdd(c00, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c01, va, d1));
            if (rows <= 1) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(c10, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c11, va, d1));
            if (rows <= 2) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(c20, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c21, va, d1));
            if (rows <= 3) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(c30, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c31, va, d1));
            if (rows <= 4) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(c40, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c41, va, d1));
            if (rows <= 5) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(c50, va, d0), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(c51, va, d1));
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c00, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c01, va, d1)));
            if (rows <= 1) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c10, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c11, va, d1)));
            if (rows <= 2) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c20, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c21, va, d1)));
            if (rows <= 3) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c30, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c31, va, d1)));
            if (rows <= 4) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c40, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c41, va, d1)));
            if (rows <= 5) return;
            c += ldc;
            Vector256.Store(Fma.MultiplyAdd(vb, Vector256.Load(c + 0), Fma.MultiplyAdd(c50, va, d0)), c + 0);
            MaskStore(c + 8, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 8, mask), Fma.MultiplyAdd(c51, va, d1)));
        }
    }

    /// <summary>C[rows, cols] = alpha · A[rows, kc] · Bpanel[kc, 8] + bias + beta · C, rows ≤ 6, 0 &lt; cols ≤ 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile8(int kc, float* a, nint rsA, nint csA, int rows, float* b, nint bStride, float* c, nint ldc, int cols, float alpha, float beta, float* bias)
    {
        float* a0 = a;
        float* a1 = rows > 1 ? a + 1 * rsA : a;
        float* a2 = rows > 2 ? a + 2 * rsA : a;
        float* a3 = rows > 3 ? a + 3 * rsA : a;
        float* a4 = rows > 4 ? a + 4 * rsA : a;
        float* a5 = rows > 5 ? a + 5 * rsA : a;
        Vector256<float> c00 = default;
        Vector256<float> c10 = default;
        Vector256<float> c20 = default;
        Vector256<float> c30 = default;
        Vector256<float> c40 = default;
        Vector256<float> c50 = default;
        // One induction variable (the A offset) doubles as the loop counter: the 8 row pointers,
        // the B pointer and the strides already take most general-purpose registers.
        nint ao = 0;
        nint aoEnd = kc * csA;
        while (ao != aoEnd)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> x0 = Vector256.Create(a0[ao]);
            c00 = Fma.MultiplyAdd(x0, b0, c00);
            Vector256<float> x1 = Vector256.Create(a1[ao]);
            c10 = Fma.MultiplyAdd(x1, b0, c10);
            Vector256<float> x2 = Vector256.Create(a2[ao]);
            c20 = Fma.MultiplyAdd(x2, b0, c20);
            Vector256<float> x3 = Vector256.Create(a3[ao]);
            c30 = Fma.MultiplyAdd(x3, b0, c30);
            Vector256<float> x4 = Vector256.Create(a4[ao]);
            c40 = Fma.MultiplyAdd(x4, b0, c40);
            Vector256<float> x5 = Vector256.Create(a5[ao]);
            c50 = Fma.MultiplyAdd(x5, b0, c50);
            ao += csA;
            b += bStride;
        }

        Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - 0)).AsSingle();
        Vector256<float> va = Vector256.Create(alpha);
        // The bias (one value per column, null for none) rides on the alpha scaling: t = acc·alpha + bias.
        Vector256<float> d0 = bias is null ? default : MaskLoad(bias + 0, mask);
        if (beta == 0f)
        {
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c00, va, d0));
            if (rows <= 1) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c10, va, d0));
            if (rows <= 2) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c20, va, d0));
            if (rows <= 3) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c30, va, d0));
            if (rows <= 4) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c40, va, d0));
            if (rows <= 5) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(c50, va, d0));
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c00, va, d0)));
            if (rows <= 1) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c10, va, d0)));
            if (rows <= 2) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c20, va, d0)));
            if (rows <= 3) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c30, va, d0)));
            if (rows <= 4) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c40, va, d0)));
            if (rows <= 5) return;
            c += ldc;
            MaskStore(c + 0, mask, Fma.MultiplyAdd(vb, MaskLoad(c + 0, mask), Fma.MultiplyAdd(c50, va, d0)));
        }
    }
}
