using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// Dynamic int8 quantization for linear layers (what torch.quantization.quantize_dynamic does for
/// nn.Linear): weights are quantized once, symmetric per output channel to int8 in [-127, 127];
/// activations are quantized at every product, per row (token), asymmetric to 7-bit unsigned [0, 127];
/// products accumulate exactly in int32 and are scaled back to float in the epilogue:
/// <code>
/// y[m, n] = sx[m]·sw[n]·(Σ_k qx[m, k]·qw[n, k] − zx[m]·Σ_k qw[n, k]) + bias[n]
/// </code>
/// The 7-bit activations are what makes the AVX-512BW path exact: vpmaddubsw multiplies unsigned by
/// signed bytes and adds pairs into int16 with saturation, and 2·127·127 = 32,258 stays below 32,767
/// (torch's fbgemm uses the same "reduce_range" on machines without VNNI). vpmaddwd against ones then
/// widens pairs of int16 into int32: 4 multiply-adds per int32 lane, 64 per 512-bit instruction pair.
/// Naive twin: <see cref="QuantizedGemmReference"/>; the AVX2 and scalar paths give identical results.
/// </summary>
public static class QuantizedGemm
{
    /// <summary>Below this many multiply-adds a product runs on one thread.</summary>
    private const long ParallelMinMacs = 1L << 20;

    private const int TasksPerThread = 8;

    /// <summary>Largest activation code (7 bits, see the class comment).</summary>
    public const int ActivationLevels = 127;

    /// <summary>Largest weight code magnitude.</summary>
    public const int WeightLevels = 127;

    [ThreadStatic]
    private static ComputeJob? cachedJob;

    [ThreadStatic]
    private static QuantizeJob? cachedQuantizeJob;

    [ThreadStatic]
    private static byte[]? scratchBytes;

    [ThreadStatic]
    private static float[]? scratchScales;

    [ThreadStatic]
    private static int[]? scratchZeros;

    /// <summary>
    /// C (m, n) = act(x (m, k) · Wᵀ + bias + beta · C) with W quantized by <see cref="QuantizedMatrix.QuantizeWeights"/>
    /// and x quantized per row on the fly. beta == 0 overwrites C.
    /// </summary>
    public static unsafe void Gemm(int m, int n, int k, ReadOnlySpan<float> x, int ldx, QuantizedMatrix weights,
        ReadOnlySpan<float> bias, float beta, Span<float> c, int ldc, EpilogueActivation activation = EpilogueActivation.None)
    {
        ArgumentNullException.ThrowIfNull(weights);
        GemmChecks.Dimensions(m, n, k);
        if (weights.Rows != k || weights.Columns != n)
        {
            KernelThrow.Argument(nameof(weights), $"Quantized matrix is ({weights.Rows}, {weights.Columns}) but the product needs ({k}, {n}).");
        }
        GemmChecks.Operand(Transpose.No, m, k, x.Length, ldx, nameof(x));
        GemmChecks.Bias(n, bias.Length);
        GemmChecks.Destination(m, n, c.Length, ldc);
        if (m == 0 || n == 0) return;
        int kp = weights.PaddedDepth;
        long qLength = (long)m * kp;
        var q = scratchBytes is { } sb && sb.Length >= qLength ? sb : (scratchBytes = GC.AllocateUninitializedArray<byte>((int)Math.Max(qLength, 4096), pinned: true));
        var scales = scratchScales is { } ss && ss.Length >= m ? ss : (scratchScales = GC.AllocateUninitializedArray<float>(Math.Max(m, 256), pinned: true));
        var zeros = scratchZeros is { } sz && sz.Length >= m ? sz : (scratchZeros = GC.AllocateUninitializedArray<int>(Math.Max(m, 256), pinned: true));
        int threads = (long)m * n * k < ParallelMinMacs ? 1 : KernelParallel.AvailableThreads;
        fixed (float* px = x)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        fixed (byte* pq = q)
        fixed (float* pscales = scales)
        fixed (int* pzeros = zeros)
        {
            QuantizeRowsParallel(px, ldx, m, k, pq, kp, pscales, pzeros, threads);
            var problem = new QuantizedProblem
            {
                M = m, N = n, KGroups = kp / 4, A = pq, Lda = kp, RowScales = pscales, RowZeros = pzeros,
                B = weights.Data, ColumnScales = weights.ScalesPointer, ColumnSums = weights.SumsPointer,
                Bias = bias.IsEmpty ? null : pbias, Beta = beta, C = pc, Ldc = ldc, Activation = activation,
                Isa = QuantizedKernels.Current,
            };
            Compute(problem, threads);
            GC.KeepAlive(weights);
        }
    }

    /// <summary>
    /// Quantizes rows of x (rows, cols) to 7-bit codes (rows, ldq), zero past cols: q = clamp(round(x / scale) + zero, 0, 127)
    /// with the row's range widened to include 0 (so 0 is exact). Writes each row's scale and zero point.
    /// </summary>
    public static unsafe void QuantizeRows(ReadOnlySpan<float> x, int rows, int cols, int ldx, Span<byte> q, int ldq, Span<float> scales, Span<int> zeroPoints)
    {
        GemmChecks.Operand(Transpose.No, rows, cols, x.Length, ldx, nameof(x));
        if (ldq < cols) KernelThrow.Argument(nameof(ldq), $"ldq {ldq} is smaller than cols {cols}.");
        if (rows > 0 && (long)(rows - 1) * ldq + ldq > q.Length) KernelThrow.DestinationTooShort(nameof(q));
        if (scales.Length < rows || zeroPoints.Length < rows) KernelThrow.DestinationTooShort(nameof(scales));
        fixed (float* px = x)
        fixed (byte* pq = q)
        fixed (float* ps = scales)
        fixed (int* pz = zeroPoints)
        {
            for (int r = 0; r < rows; r++) QuantizeRow(px + (long)r * ldx, cols, pq + (long)r * ldq, ldq, ps + r, pz + r);
        }
    }

    /// <summary>The scale and zero point of a row with this minimum and maximum (shared with the reference).</summary>
    public static (float Scale, int Zero) RowParameters(float min, float max)
    {
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        float range = max - min;
        if (!(range > 0f) || !float.IsFinite(range)) return (float.IsFinite(range) ? 1f : float.NaN, 0);
        float scale = range / ActivationLevels;
        int zero = (int)Math.Clamp(MathF.Round(-min / scale), 0, ActivationLevels);
        return (scale, zero);
    }

    private static unsafe void QuantizeRowsParallel(float* x, nint ldx, int m, int k, byte* q, int kp, float* scales, int* zeros, int threads)
    {
        if (threads == 1 || (long)m * k < 64 * 1024)
        {
            for (int r = 0; r < m; r++) QuantizeRow(x + r * ldx, k, q + (long)r * kp, kp, scales + r, zeros + r);
            return;
        }
        var job = cachedQuantizeJob ?? new QuantizeJob();
        cachedQuantizeJob = null;
        try
        {
            job.X = x; job.Ldx = ldx; job.M = m; job.K = k; job.Q = q; job.Kp = kp; job.Scales = scales; job.Zeros = zeros;
            job.Chunks = Math.Min(m, threads * 4);
            KernelParallel.For(job.Chunks, job);
        }
        finally
        {
            cachedQuantizeJob = job;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void QuantizeRow(float* x, int cols, byte* q, int ldq, float* scale, int* zero)
    {
        float min = 0f, max = 0f;
        int j = 0;
        if (Vector512.IsHardwareAccelerated && cols >= 16)
        {
            var vmin = Vector512<float>.Zero;
            var vmax = Vector512<float>.Zero;
            for (; j <= cols - 16; j += 16)
            {
                var v = Vector512.Load(x + j);
                vmin = Vector512.Min(vmin, v);
                vmax = Vector512.Max(vmax, v);
            }
            for (int l = 0; l < 16; l++)
            {
                min = Math.Min(min, vmin[l]);
                max = Math.Max(max, vmax[l]);
            }
        }
        for (; j < cols; j++)
        {
            min = Math.Min(min, x[j]);
            max = Math.Max(max, x[j]);
        }
        var (s, z) = RowParameters(min, max);
        *scale = s;
        *zero = z;
        float inverse = 1f / s;
        j = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inverse);
            var vz = Vector512.Create(z);
            var lo = Vector512<int>.Zero;
            var hi = Vector512.Create(ActivationLevels);
            for (; j <= cols - 16; j += 16)
            {
                // cvtps2dq rounds half to even, as MathF.Round does.
                var codes = Vector512.Min(Vector512.Max(Avx512F.ConvertToVector512Int32(Vector512.Load(x + j) * vinv) + vz, lo), hi);
                Vector128.Store(Avx512F.ConvertToVector128Byte(codes), q + j);
            }
        }
        for (; j < cols; j++) q[j] = QuantizeValue(x[j], inverse, z);
        for (; j < ldq; j++) q[j] = 0;
    }

    /// <summary>One activation code (shared with the reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte QuantizeValue(float x, float inverseScale, int zero)
    {
        float v = MathF.Round(x * inverseScale);
        // NaN/inf clamp like the vector path's integer conversion (0x80000000) does.
        int code = float.IsNaN(v) || v < int.MinValue ? int.MinValue : v >= 2147483648f ? int.MinValue : (int)v;
        return (byte)Math.Clamp((long)code + zero, 0, ActivationLevels);
    }

    private static unsafe void Compute(in QuantizedProblem p, int threads)
    {
        int mr = QuantizedKernels.MR;
        int nr = QuantizedKernels.NR;
        int rowPanels = (p.M + mr - 1) / mr;
        int panels = (p.N + nr - 1) / nr;
        // Row groups of up to 64 rows keep their codes (64 × k bytes) in L2 beside the panel being swept.
        int rowGroups = Math.Max(1, (p.M + 63) / 64);
        int colGroups = 1;
        if (threads > 1)
        {
            int wanted = threads * TasksPerThread;
            if (rowGroups < wanted) colGroups = Math.Min(panels, (wanted + rowGroups - 1) / rowGroups);
        }
        int tasks = rowGroups * colGroups;
        if (threads == 1 || tasks == 1)
        {
            for (int t = 0; t < tasks; t++) RunTask(p, t, rowGroups, colGroups, rowPanels, panels);
            return;
        }
        var job = cachedJob ?? new ComputeJob();
        cachedJob = null;
        try
        {
            job.Problem = p;
            job.RowGroups = rowGroups;
            job.ColGroups = colGroups;
            job.RowPanels = rowPanels;
            job.Panels = panels;
            KernelParallel.For(tasks, job);
        }
        finally
        {
            cachedJob = job;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunTask(in QuantizedProblem p, int task, int rowGroups, int colGroups, int rowPanels, int panels)
    {
        int mr = QuantizedKernels.MR;
        int nr = QuantizedKernels.NR;
        int rowGroup = task % rowGroups;
        int colGroup = task / rowGroups;
        int row0 = (int)((long)rowGroup * rowPanels / rowGroups) * mr;
        int row1 = Math.Min(p.M, (int)((long)(rowGroup + 1) * rowPanels / rowGroups) * mr);
        int panel0 = (int)((long)colGroup * panels / colGroups);
        int panel1 = (int)((long)(colGroup + 1) * panels / colGroups);
        long panelBytes = (long)p.KGroups * 4 * nr;
        for (int j = panel0; j < panel1; j++)
        {
            int col0 = j * nr;
            int cols = Math.Min(nr, p.N - col0);
            sbyte* b = p.B + j * panelBytes;
            for (int i = row0; i < row1; i += mr)
            {
                int rows = Math.Min(mr, row1 - i);
                QuantizedKernels.Tile(p.Isa, p.KGroups, p.A + (long)i * p.Lda, p.Lda, rows, b,
                    p.RowScales + i, p.RowZeros + i, p.ColumnScales + col0, p.ColumnSums + col0, p.Bias is null ? null : p.Bias + col0,
                    p.Beta, p.C + i * p.Ldc + col0, p.Ldc, cols);
                if (p.Activation != EpilogueActivation.None) GemmEpilogue.Apply(p.Activation, p.C + i * p.Ldc + col0, p.Ldc, rows, cols);
            }
        }
    }

    private sealed unsafe class ComputeJob : IParallelBody
    {
        public QuantizedProblem Problem;
        public int RowGroups;
        public int ColGroups;
        public int RowPanels;
        public int Panels;

        public void Invoke(int index) => RunTask(Problem, index, RowGroups, ColGroups, RowPanels, Panels);
    }

    private sealed unsafe class QuantizeJob : IParallelBody
    {
        public float* X;
        public nint Ldx;
        public int M;
        public int K;
        public byte* Q;
        public int Kp;
        public float* Scales;
        public int* Zeros;
        public int Chunks;

        public void Invoke(int index)
        {
            int r0 = (int)((long)M * index / Chunks);
            int r1 = (int)((long)M * (index + 1) / Chunks);
            for (int r = r0; r < r1; r++) QuantizeRow(X + r * Ldx, K, Q + (long)r * Kp, Kp, Scales + r, Zeros + r);
        }
    }
}

/// <summary>What one quantized product reads and writes.</summary>
internal unsafe struct QuantizedProblem
{
    public int M;
    public int N;
    public int KGroups;
    public byte* A;
    public nint Lda;
    public float* RowScales;
    public int* RowZeros;
    public sbyte* B;
    public float* ColumnScales;
    public int* ColumnSums;
    public float* Bias;
    public float Beta;
    public float* C;
    public nint Ldc;
    public EpilogueActivation Activation;
    public QuantizedKernels.Level Isa;
}

/// <summary>
/// A weight matrix W (n, k) (stored (out, in), used as y = x·Wᵀ) quantized to int8 per output channel
/// and packed for <see cref="QuantizedGemm"/>: panels of <see cref="QuantizedKernels.NR"/> columns; in a
/// panel, each group of 4 consecutive k holds NR × 4 bytes (column c's 4 codes at 4·c), so one 512-bit
/// load feeds vpmaddubsw for 16 columns × 4 depths. k is padded to a multiple of 4 and n to whole panels
/// with zero codes (scale 0). Immutable; a quarter of the float32 size.
/// </summary>
public sealed unsafe class QuantizedMatrix
{
    private readonly sbyte[] data;
    private readonly float[] scales;
    private readonly int[] sums;

    private QuantizedMatrix(int k, int n, sbyte[] data, float[] scales, int[] sums)
    {
        Rows = k;
        Columns = n;
        this.data = data;
        this.scales = scales;
        this.sums = sums;
    }

    /// <summary>k: the input width.</summary>
    public int Rows { get; }

    /// <summary>n: the output width.</summary>
    public int Columns { get; }

    /// <summary>k rounded up to a multiple of 4.</summary>
    public int PaddedDepth => (Rows + 3) & ~3;

    public long SizeInBytes => data.LongLength + (scales.Length + sums.Length) * 4L;

    /// <summary>The per-output-channel scales sw (n values).</summary>
    public ReadOnlySpan<float> Scales => scales.AsSpan(0, Columns);

    internal sbyte* Data => (sbyte*)Unsafe.AsPointer(ref data[0]);

    internal float* ScalesPointer => (float*)Unsafe.AsPointer(ref scales[0]);

    internal int* SumsPointer => (int*)Unsafe.AsPointer(ref sums[0]);

    /// <summary>The int8 code of weight (column n, depth k), for tests and the reference.</summary>
    public sbyte Code(int column, int depth)
    {
        if ((uint)column >= (uint)Columns || (uint)depth >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(column));
        int nr = QuantizedKernels.NR;
        long panel = column / nr;
        return data[panel * PaddedDepth * nr + (depth / 4) * 4 * nr + (column % nr) * 4 + depth % 4];
    }

    /// <summary>
    /// Quantizes W (n rows of k, row-major: a linear layer's (out, in) weight) per row to int8:
    /// sw = max|w| / 127, q = round(w / sw).
    /// </summary>
    public static QuantizedMatrix QuantizeWeights(ReadOnlySpan<float> w, int n, int k)
    {
        if (n < 0 || k < 0) KernelThrow.Argument(nameof(n), "n and k must be non-negative.");
        if ((long)n * k > w.Length) KernelThrow.SourceTooShort(nameof(w));
        int nr = QuantizedKernels.NR;
        int kp = (k + 3) & ~3;
        int panels = (n + nr - 1) / nr;
        int paddedN = panels * nr;
        var data = GC.AllocateArray<sbyte>((int)Math.Max(1, checked((long)paddedN * kp)), pinned: true);
        var scales = GC.AllocateArray<float>(Math.Max(1, paddedN), pinned: true);
        var sums = GC.AllocateArray<int>(Math.Max(1, paddedN), pinned: true);
        var row = new sbyte[k];
        for (int col = 0; col < n; col++)
        {
            var (scale, inverse) = WeightParameters(w.Slice(col * k, k));
            scales[col] = scale;
            int sum = 0;
            for (int d = 0; d < k; d++)
            {
                row[d] = QuantizeWeight(w[col * k + d], inverse);
                sum += row[d];
            }
            sums[col] = sum;
            long panelBase = (long)(col / nr) * kp * nr + (col % nr) * 4;
            for (int d = 0; d < k; d++) data[panelBase + (d / 4) * 4 * nr + d % 4] = row[d];
        }
        return new QuantizedMatrix(k, n, data, scales, sums);
    }

    /// <summary>A row's scale and the factor codes are computed with (shared with the reference).</summary>
    public static (float Scale, float Inverse) WeightParameters(ReadOnlySpan<float> row)
    {
        float amax = 0f;
        foreach (float v in row) amax = Math.Max(amax, Math.Abs(v));
        if (!(amax > 0f) || !float.IsFinite(amax)) return (float.IsFinite(amax) ? 0f : float.NaN, 0f);
        return (amax / QuantizedGemm.WeightLevels, QuantizedGemm.WeightLevels / amax);
    }

    public static sbyte QuantizeWeight(float w, float inverse) =>
        (sbyte)Math.Clamp(MathF.Round(w * inverse), -QuantizedGemm.WeightLevels, QuantizedGemm.WeightLevels);
}

/// <summary>
/// The int8 micro-kernels: an MR × NR tile of C from MR rows of 7-bit activation codes and one packed
/// weight panel, with the dequantizing epilogue. AVX-512BW (vpmaddubsw + vpmaddwd), AVX2 (the same at
/// 256 bits) or scalar, all exact in int32 and so identical.
/// </summary>
internal static unsafe class QuantizedKernels
{
    public const int MR = 8;
    public const int NR = 32;

    internal enum Level
    {
        Scalar,
        Avx2,
        Avx512,
    }

    [ThreadStatic]
    private static Level? forced;

    public static Level Detected { get; } =
        Vector512.IsHardwareAccelerated && Avx512BW.IsSupported ? Level.Avx512
        : Avx2.IsSupported ? Level.Avx2
        : Level.Scalar;

    /// <summary>Tests force the narrower paths on this thread; null restores detection.</summary>
    public static Level? Forced
    {
        get => forced;
        set
        {
            if (value is { } level && level > Detected) throw new NotSupportedException($"This CPU cannot run the {level} int8 kernels.");
            forced = value;
        }
    }

    public static Level Current => forced ?? Detected;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(Level level, int kGroups, byte* a, nint lda, int rows, sbyte* b,
        float* rowScales, int* rowZeros, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        switch (level)
        {
            case Level.Avx512: TileAvx512(kGroups, a, lda, rows, b, rowScales, rowZeros, colScales, colSums, bias, beta, c, ldc, cols); break;
            case Level.Avx2: TileAvx2(kGroups, a, lda, rows, b, rowScales, rowZeros, colScales, colSums, bias, beta, c, ldc, cols); break;
            default: TileScalar(kGroups, a, lda, rows, b, rowScales, rowZeros, colScales, colSums, bias, beta, c, ldc, cols); break;
        }
    }

    /// <summary>8 rows × 32 columns: 16 int32 accumulators (two per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAvx512(int kGroups, byte* a, nint lda, int rows, sbyte* b,
        float* rowScales, int* rowZeros, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        byte* a0 = a;
        byte* a1 = rows > 1 ? a + 1 * lda : a;
        byte* a2 = rows > 2 ? a + 2 * lda : a;
        byte* a3 = rows > 3 ? a + 3 * lda : a;
        byte* a4 = rows > 4 ? a + 4 * lda : a;
        byte* a5 = rows > 5 ? a + 5 * lda : a;
        byte* a6 = rows > 6 ? a + 6 * lda : a;
        byte* a7 = rows > 7 ? a + 7 * lda : a;
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<int> c60 = default, c61 = default, c70 = default, c71 = default;
        var ones = Vector512.Create((short)1);
        nint ao = 0;
        nint aoEnd = (nint)kGroups * 4;
        while (ao != aoEnd)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 64);
            var x = Vector512.Create(*(int*)(a0 + ao)).AsByte();
            c00 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c01 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a1 + ao)).AsByte();
            c10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a2 + ao)).AsByte();
            c20 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c21 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a3 + ao)).AsByte();
            c30 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c31 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a4 + ao)).AsByte();
            c40 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c41 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a5 + ao)).AsByte();
            c50 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c51 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a6 + ao)).AsByte();
            c60 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c61 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            x = Vector512.Create(*(int*)(a7 + ao)).AsByte();
            c70 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b0), ones);
            c71 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, b1), ones);
            ao += 4;
            b += 128;
        }
        var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - 16)).AsSingle();
        var sum0 = Vector512.Load(colSums);
        var sum1 = Vector512.Load(colSums + 16);
        var scale0 = Vector512.Load(colScales);
        var scale1 = Vector512.Load(colScales + 16);
        var bias0 = bias is null ? default : Avx512F.MaskLoad(bias, mask0, Vector512<float>.Zero);
        var bias1 = bias is null ? default : Avx512F.MaskLoad(bias + 16, mask1, Vector512<float>.Zero);
        Store512(c00, c01, 0, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c, mask0, mask1);
        if (rows <= 1) return;
        Store512(c10, c11, 1, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + ldc, mask0, mask1);
        if (rows <= 2) return;
        Store512(c20, c21, 2, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 2 * ldc, mask0, mask1);
        if (rows <= 3) return;
        Store512(c30, c31, 3, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 3 * ldc, mask0, mask1);
        if (rows <= 4) return;
        Store512(c40, c41, 4, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 4 * ldc, mask0, mask1);
        if (rows <= 5) return;
        Store512(c50, c51, 5, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 5 * ldc, mask0, mask1);
        if (rows <= 6) return;
        Store512(c60, c61, 6, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 6 * ldc, mask0, mask1);
        if (rows <= 7) return;
        Store512(c70, c71, 7, rowScales, rowZeros, sum0, sum1, scale0, scale1, bias0, bias1, beta, c + 7 * ldc, mask0, mask1);
    }

    /// <summary>One row of the tile: y = (acc − zero·colsum)·(rowScale·colScale) + bias (+ beta·C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<int> acc0, Vector512<int> acc1, int r, float* rowScales, int* rowZeros,
        Vector512<int> sum0, Vector512<int> sum1, Vector512<float> scale0, Vector512<float> scale1,
        Vector512<float> bias0, Vector512<float> bias1, float beta, float* c, Vector512<float> mask0, Vector512<float> mask1)
    {
        var zero = Vector512.Create(rowZeros[r]);
        var rowScale = Vector512.Create(rowScales[r]);
        var y0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc0 - zero * sum0), rowScale * scale0, bias0);
        var y1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc1 - zero * sum1), rowScale * scale1, bias1);
        if (beta != 0f)
        {
            var vb = Vector512.Create(beta);
            y0 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c, mask0, Vector512<float>.Zero), y0);
            y1 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c + 16, mask1, Vector512<float>.Zero), y1);
        }
        Avx512F.MaskStore(c, mask0, y0);
        Avx512F.MaskStore(c + 16, mask1, y1);
    }

    /// <summary>The AVX2 tile, 4 rows at a time × 32 columns (4 ymm per row): same arithmetic at 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAvx2(int kGroups, byte* a, nint lda, int rows, sbyte* b,
        float* rowScales, int* rowZeros, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var ones = Vector256.Create((short)1);
        var acc = stackalloc int[NR];
        for (int r = 0; r < rows; r++)
        {
            byte* ar = a + r * lda;
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++)
            {
                var x = Vector256.Create(*(int*)(ar + 4 * g)).AsByte();
                s0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.Load(bp)), ones);
                s1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.Load(bp + 32)), ones);
                s2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.Load(bp + 64)), ones);
                s3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, Vector256.Load(bp + 96)), ones);
                bp += 128;
            }
            s0.Store(acc);
            s1.Store(acc + 8);
            s2.Store(acc + 16);
            s3.Store(acc + 24);
            StoreRowScalar(acc, rowScales[r], rowZeros[r], colScales, colSums, bias, beta, c + r * ldc, cols);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(int kGroups, byte* a, nint lda, int rows, sbyte* b,
        float* rowScales, int* rowZeros, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var acc = stackalloc int[NR];
        for (int r = 0; r < rows; r++)
        {
            byte* ar = a + r * lda;
            for (int j = 0; j < NR; j++) acc[j] = 0;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++)
            {
                byte* x = ar + 4 * g;
                for (int j = 0; j < NR; j++)
                {
                    sbyte* w = bp + 4 * j;
                    acc[j] += x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + x[3] * w[3];
                }
                bp += 128;
            }
            StoreRowScalar(acc, rowScales[r], rowZeros[r], colScales, colSums, bias, beta, c + r * ldc, cols);
        }
    }

    /// <summary>The epilogue of one row in scalar code, with the same operation order (and FMA) as the vector one.</summary>
    private static void StoreRowScalar(int* acc, float rowScale, int rowZero, float* colScales, int* colSums, float* bias, float beta, float* c, int cols)
    {
        for (int j = 0; j < cols; j++)
        {
            float y = MathF.FusedMultiplyAdd(acc[j] - rowZero * colSums[j], rowScale * colScales[j], bias is null ? 0f : bias[j]);
            c[j] = beta != 0f ? MathF.FusedMultiplyAdd(beta, c[j], y) : y;
        }
    }
}

/// <summary>
/// The naive quantized product <see cref="QuantizedGemm"/> is tested against: the same codes (the
/// shared quantization helpers), exact integer sums in long, the dequantization in double.
/// </summary>
public static class QuantizedGemmReference
{
    public static void Gemm(int m, int n, int k, ReadOnlySpan<float> x, int ldx, QuantizedMatrix weights,
        ReadOnlySpan<float> bias, float beta, Span<float> c, int ldc)
    {
        var codes = new byte[k];
        for (int i = 0; i < m; i++)
        {
            var row = x.Slice(i * ldx, k);
            float min = 0f, max = 0f;
            foreach (float v in row)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            var (scale, zero) = QuantizedGemm.RowParameters(min, max);
            float inverse = 1f / scale;
            for (int d = 0; d < k; d++) codes[d] = QuantizedGemm.QuantizeValue(row[d], inverse, zero);
            for (int j = 0; j < n; j++)
            {
                long dot = 0, sum = 0;
                for (int d = 0; d < k; d++)
                {
                    int w = weights.Code(j, d);
                    dot += codes[d] * w;
                    sum += w;
                }
                double y = (dot - zero * sum) * ((double)scale * weights.Scales[j]) + (bias.IsEmpty ? 0 : bias[j]);
                if (beta != 0f) y += beta * (double)c[i * ldc + j];
                c[i * ldc + j] = (float)y;
            }
        }
    }
}
