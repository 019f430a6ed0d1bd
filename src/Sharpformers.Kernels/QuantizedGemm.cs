using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// Dynamic quantization for linear layers with int8 weights, as torch.quantization.quantize_dynamic does for
/// nn.Linear on x86 (fbgemm): weights are quantized once, symmetric per output channel to int8 in
/// [-127, 127]; activations are quantized at every product, per row (token) and asymmetric, to 7-bit
/// unsigned codes u in [0, 127] with a zero point z (torch's "reduce_range"); products accumulate exactly in
/// int32 and are scaled back to float in the epilogue:
/// <code>
/// y[m, n] = sx[m]·sw[n]·(Σ_k u[m, k]·qw[n, k] − z[m]·Σ_k qw[n, k]) + bias[n]
/// </code>
/// The multiply is AVX-512BW's vpmaddubsw (u8 × s8, adjacent pairs summed into int16) followed by vpmaddwd
/// against ones (pairs of int16 into int32): 64 multiply-adds per vpmaddubsw. Seven bits are what keep it
/// exact: a pair sum is at most 2·127·127 = 32,258, below int16's saturation at 32,767. Measured, this runs
/// about 1.25× the previous vpmovsxbw + vpmaddwd kernel with 16-bit codes (docs/performance.md, "int8"), and the
/// asymmetric per-token range loses far less than 7 bits suggest (0.11 points on SST-2 dev for the default
/// model, one sentence of 872; BENCHMARKS.md). Naive twin: <see cref="QuantizedGemmReference"/>; the AVX2 and scalar paths
/// give identical results.
/// </summary>
public static class QuantizedGemm
{
    /// <summary>Below this many multiply-adds a product runs on one thread.</summary>
    private const long ParallelMinMacs = 1L << 20;

    /// <summary>Largest weight code magnitude.</summary>
    public const int WeightLevels = 127;

    /// <summary>Largest activation code (codes are 0 … 127: seven bits, so vpmaddubsw never saturates).</summary>
    public const int ActivationLevels = 127;

    /// <summary>
    /// Deepest product whose int32 sums are exact: |Σ_k (u − z)·qw| ≤ 127·127·k must fit in int32 (the
    /// partial sums may wrap; two's-complement arithmetic still lands on the true total).
    /// </summary>
    public const int MaxDepth = int.MaxValue / (ActivationLevels * WeightLevels);

    [ThreadStatic]
    private static ComputeJob? cachedJob;

    [ThreadStatic]
    private static QuantizeJob? cachedQuantizeJob;

    [ThreadStatic]
    private static byte[]? scratchCodes;

    [ThreadStatic]
    private static float[]? scratchScales;

    [ThreadStatic]
    private static int[]? scratchZeroPoints;

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
        var q = scratchCodes is { } sq && sq.Length >= qLength ? sq : (scratchCodes = GC.AllocateUninitializedArray<byte>((int)Math.Max(qLength, 4096), pinned: true));
        var scales = scratchScales is { } ss && ss.Length >= m ? ss : (scratchScales = GC.AllocateUninitializedArray<float>(Math.Max(m, 256), pinned: true));
        var zeros = scratchZeroPoints is { } sz && sz.Length >= m ? sz : (scratchZeroPoints = GC.AllocateUninitializedArray<int>(Math.Max(m, 256), pinned: true));
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
                M = m, N = n, KQuads = kp / 4, A = pq, Lda = kp, RowScales = pscales, RowZeroPoints = pzeros,
                B = weights.Data, ColumnScales = weights.ScalesPointer, ColumnSums = weights.SumsPointer,
                Bias = bias.IsEmpty ? null : pbias, Beta = beta, C = pc, Ldc = ldc, Activation = activation,
                Isa = QuantizedKernels.Current,
            };
            Compute(problem, threads);
            GC.KeepAlive(weights);
        }
    }

    /// <summary>
    /// Quantizes rows of x (rows, cols) to 7-bit codes (rows, ldq), zero past cols:
    /// u = clamp(round(x / scale) + z, 0, 127) over the row's range widened to include 0, and writes each
    /// row's scale and zero point (see <see cref="RowParameters"/>).
    /// </summary>
    public static unsafe void QuantizeRows(ReadOnlySpan<float> x, int rows, int cols, int ldx, Span<byte> q, int ldq, Span<float> scales, Span<int> zeroPoints)
    {
        GemmChecks.Operand(Transpose.No, rows, cols, x.Length, ldx, nameof(x));
        if (ldq < cols) KernelThrow.Argument(nameof(ldq), $"ldq {ldq} is smaller than cols {cols}.");
        if ((long)rows * ldq > q.Length) KernelThrow.DestinationTooShort(nameof(q));
        if (scales.Length < rows) KernelThrow.DestinationTooShort(nameof(scales));
        if (zeroPoints.Length < rows) KernelThrow.DestinationTooShort(nameof(zeroPoints));
        fixed (float* px = x)
        fixed (byte* pq = q)
        fixed (float* ps = scales)
        fixed (int* pz = zeroPoints)
        {
            for (int r = 0; r < rows; r++) QuantizeRow(px + (long)r * ldx, cols, pq + (long)r * ldq, ldq, ps + r, pz + r);
        }
    }

    /// <summary>
    /// A row's scale, the factor its codes are computed with and its zero point (shared with the reference),
    /// from the row's smallest and largest values; NaN for either means the row holds a NaN or an infinity.
    /// As torch's dynamic quantization, the range always includes 0, so 0 (and padding) is exact.
    /// </summary>
    public static (float Scale, float Inverse, int ZeroPoint) RowParameters(float min, float max)
    {
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        float range = max - min;
        if (!float.IsFinite(range)) return (float.NaN, 0f, 0);
        if (range == 0f) return (0f, 0f, 0);
        float inverse = ActivationLevels / range;
        return (range / ActivationLevels, inverse, (int)Math.Clamp(MathF.Round(-min * inverse), 0f, ActivationLevels));
    }

    /// <summary>One activation code (shared with the reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte QuantizeValue(float x, float inverse, int zeroPoint) =>
        (byte)Math.Clamp(MathF.Round(x * inverse) + zeroPoint, 0f, ActivationLevels);

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
    private static unsafe void QuantizeRow(float* x, int cols, byte* q, int ldq, float* scale, int* zeroPoint)
    {
        float min = 0f, max = 0f;
        bool finite = true;
        int j = 0;
        if (Vector512.IsHardwareAccelerated && cols >= 16)
        {
            var vmin = Vector512<float>.Zero;
            var vmax = Vector512<float>.Zero;
            var probe = Vector512<float>.Zero; // x − x is NaN exactly for NaN and ±∞
            for (; j <= cols - 16; j += 16)
            {
                var v = Vector512.Load(x + j);
                vmin = Vector512.Min(vmin, v);
                vmax = Vector512.Max(vmax, v);
                probe += v - v;
            }
            for (int l = 0; l < 16; l++)
            {
                min = MathF.Min(min, vmin[l]);
                max = MathF.Max(max, vmax[l]);
                finite &= probe[l] == 0f;
            }
        }
        for (; j < cols; j++)
        {
            float v = x[j];
            finite &= float.IsFinite(v);
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        var (s, inverse, zero) = RowParameters(finite ? min : float.NaN, max);
        *scale = s;
        *zeroPoint = zero;
        j = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inverse);
            var vzero = Vector512.Create(zero);
            var top = Vector512.Create(ActivationLevels);
            for (; j <= cols - 16; j += 16)
            {
                // cvtps2dq rounds half to even, as MathF.Round does; |x·inverse| ≤ 127, so no overflow (a NaN
                // row's codes come out 0 here and in QuantizeValue; its NaN scale carries the NaN through).
                var codes = Vector512.Min(Vector512.Max(Avx512F.ConvertToVector512Int32(Vector512.Load(x + j) * vinv) + vzero, Vector512<int>.Zero), top);
                Vector128.Store(Avx512F.ConvertToVector128Byte(codes), q + j);
            }
        }
        for (; j < cols; j++) q[j] = QuantizeValue(x[j], inverse, zero);
        for (; j < ldq; j++) q[j] = 0;
    }

    private static unsafe void Compute(in QuantizedProblem p, int threads)
    {
        int mr = QuantizedKernels.MR;
        int nr = QuantizedKernels.NR;
        int rowPanels = (p.M + mr - 1) / mr;
        int panels = (p.N + nr - 1) / nr;
        // As the float32 runner: column groups of L2-sized slices of weight panels, tall products split by rows too.
        int slicePanels = SlicePanels(p);
        var (rowGroups, colGroups) = GemmTaskSplit.Split(p.M, panels, (panels + slicePanels - 1) / slicePanels, threads);
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
        long panelBytes = (long)p.KQuads * 4 * nr;
        int slicePanels = SlicePanels(p);
        // Per slice of panels (in L2), each MR-row micro-panel of codes (in L1) meets every panel of the slice.
        for (int s0 = panel0; s0 < panel1; s0 += slicePanels)
        {
            int s1 = Math.Min(panel1, s0 + slicePanels);
            for (int i = row0; i < row1; i += mr)
            {
                int rows = Math.Min(mr, row1 - i);
                var tile = new QuantizedTile(p.KQuads, p.A + (long)i * p.Lda, p.Lda, rows, p.RowScales + i, p.RowZeroPoints + i);
                for (int j = s0; j < s1; j++)
                {
                    int col0 = j * nr;
                    int cols = Math.Min(nr, p.N - col0);
                    QuantizedKernels.Tile(p.Isa, tile, p.B + j * panelBytes, p.ColumnScales + col0, p.ColumnSums + col0,
                        p.Bias is null ? null : p.Bias + col0, p.Beta, p.C + i * p.Ldc + col0, p.Ldc, cols);
                    if (p.Activation != EpilogueActivation.None) GemmEpilogue.Apply(p.Activation, p.C + i * p.Ldc + col0, p.Ldc, rows, cols);
                }
            }
        }
    }

    /// <summary>Weight panels per slice: about 256 KB, a quarter of Zen's L2, beside the codes streaming through.</summary>
    private static int SlicePanels(in QuantizedProblem p) =>
        (int)Math.Max(1, 256 * 1024 / Math.Max(1, (long)p.KQuads * 4 * QuantizedKernels.NR));

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
    public int KQuads;
    public byte* A;
    public nint Lda;
    public float* RowScales;
    public int* RowZeroPoints;
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

/// <summary>The activation side of one micro-kernel call: up to MR rows of codes with their scales and zero points.</summary>
internal readonly unsafe struct QuantizedTile(int kQuads, byte* a, nint lda, int rows, float* rowScales, int* rowZeroPoints)
{
    public readonly int KQuads = kQuads;
    public readonly byte* A = a;
    public readonly nint Lda = lda;
    public readonly int Rows = rows;
    public readonly float* RowScales = rowScales;
    public readonly int* RowZeroPoints = rowZeroPoints;

    /// <summary>Row r's codes; rows past <see cref="Rows"/> alias row 0 (computed, never stored).</summary>
    public byte* Row(int r) => r < Rows ? A + r * Lda : A;
}

/// <summary>
/// A weight matrix W (n, k) (stored (out, in), used as y = x·Wᵀ) quantized to int8 per output channel
/// and packed for <see cref="QuantizedGemm"/>: panels of <see cref="QuantizedKernels.NR"/> columns; in a
/// panel, each group of 4 consecutive k holds NR × 4 bytes (column c's 4 codes at 4·c), so one 64-byte
/// load feeds vpmaddubsw for 16 columns × 4 depths. k is padded to a multiple of 4 and n to whole panels
/// with zero codes (scale 0). Each column's code sum is kept for the activations' zero-point correction.
/// Immutable; a quarter of the float32 size.
/// </summary>
public sealed unsafe class QuantizedMatrix
{
    private readonly NativeWeightBuffer data;
    private readonly float[] scales;
    private readonly int[] sums;

    private QuantizedMatrix(int k, int n, NativeWeightBuffer data, float[] scales, int[] sums)
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

    public long SizeInBytes => data.Bytes + scales.Length * 4L + sums.Length * 4L;

    /// <summary>The per-output-channel scales sw (n values).</summary>
    public ReadOnlySpan<float> Scales => scales.AsSpan(0, Columns);

    /// <summary>Σ_k qw[n, k] per output channel (n values).</summary>
    public ReadOnlySpan<int> ColumnSums => sums.AsSpan(0, Columns);

    internal sbyte* Data => (sbyte*)data.Pointer;

    internal float* ScalesPointer => (float*)Unsafe.AsPointer(ref scales[0]);

    internal int* SumsPointer => (int*)Unsafe.AsPointer(ref sums[0]);

    /// <summary>The int8 code of weight (column, depth), for tests and the reference.</summary>
    public sbyte Code(int column, int depth)
    {
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column));
        if ((uint)depth >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(depth));
        sbyte code = Data[Offset(column, depth, PaddedDepth)];
        GC.KeepAlive(this);
        return code;
    }

    private static long Offset(int column, int depth, int paddedDepth)
    {
        int nr = QuantizedKernels.NR;
        return (long)(column / nr) * paddedDepth * nr + (long)(depth / 4) * 4 * nr + (column % nr) * 4 + depth % 4;
    }

    /// <summary>
    /// Quantizes W (n rows of k, row-major: a linear layer's (out, in) weight) per row to int8:
    /// sw = max|w| / 127, q = round(w / sw).
    /// </summary>
    public static QuantizedMatrix QuantizeWeights(ReadOnlySpan<float> w, int n, int k)
    {
        if (n < 0) KernelThrow.Argument(nameof(n), "n must be non-negative.");
        if (k < 0) KernelThrow.Argument(nameof(k), "k must be non-negative.");
        if (k > QuantizedGemm.MaxDepth) KernelThrow.Argument(nameof(k), $"int8 products are exact up to k = {QuantizedGemm.MaxDepth}, got {k}.");
        if ((long)n * k > w.Length) KernelThrow.SourceTooShort(nameof(w));
        int nr = QuantizedKernels.NR;
        int kp = (k + 3) & ~3;
        int paddedN = (n + nr - 1) / nr * nr;
        long length = Math.Max(1, checked((long)paddedN * kp));
        var data = new NativeWeightBuffer(length);
        var codes = new Span<sbyte>(data.Pointer, checked((int)length));
        codes.Clear();
        var scales = GC.AllocateArray<float>(Math.Max(1, paddedN), pinned: true);
        var sums = GC.AllocateArray<int>(Math.Max(1, paddedN), pinned: true);
        for (int col = 0; col < n; col++)
        {
            var row = w.Slice(col * k, k);
            var (scale, inverse) = WeightParameters(row);
            scales[col] = scale;
            int columnBase = (int)Offset(col, 0, kp);
            int sum = 0;
            for (int d = 0; d < k; d++)
            {
                sbyte code = QuantizeWeight(row[d], inverse);
                codes[columnBase + (d >> 2) * 4 * nr + (d & 3)] = code;
                sum += code;
            }
            sums[col] = sum;
        }
        return new QuantizedMatrix(k, n, data, scales, sums);
    }

    /// <summary>A row's scale and the factor its codes are computed with (shared with the reference).</summary>
    public static (float Scale, float Inverse) WeightParameters(ReadOnlySpan<float> row)
    {
        float amax = 0f;
        foreach (float v in row) amax = float.IsNaN(v) ? float.NaN : Math.Max(amax, Math.Abs(v));
        if (!(amax > 0f)) return (float.IsNaN(amax) ? float.NaN : 0f, 0f);
        if (!float.IsFinite(amax)) return (float.NaN, 0f);
        return (amax / QuantizedGemm.WeightLevels, QuantizedGemm.WeightLevels / amax);
    }

    public static sbyte QuantizeWeight(float w, float inverse) =>
        (sbyte)Math.Clamp(MathF.Round(w * inverse), -QuantizedGemm.WeightLevels, QuantizedGemm.WeightLevels);
}

/// <summary>
/// The quantized micro-kernels: an MR × NR tile of C from MR rows of 7-bit activation codes and one
/// packed int8 weight panel, with the dequantizing epilogue. AVX-512BW (vpmaddubsw + vpmaddwd), AVX2 (the
/// same at 256 bits) or scalar, all exact in int32 and so identical.
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
        : Avx2.IsSupported && Fma.IsSupported ? Level.Avx2
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
    public static void Tile(Level level, in QuantizedTile a, sbyte* b, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        switch (level)
        {
            case Level.Avx512: TileAvx512(a, b, colScales, colSums, bias, beta, c, ldc, cols); break;
            case Level.Avx2: TileAvx2(a, b, colScales, colSums, bias, beta, c, ldc, cols); break;
            default: TileScalar(a, b, colScales, colSums, bias, beta, c, ldc, cols); break;
        }
    }

    /// <summary>Σ over 4 depths of u8 × s8 into int32 lanes: vpmaddubsw (pairs into int16, exact for 7-bit u) then vpmaddwd by 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot4(Vector512<byte> u, Vector512<sbyte> w, Vector512<short> ones) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, w), ones);

    /// <summary>8 rows × 32 columns: 16 int32 accumulators (two per row); each step consumes 4 depths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit] // the sums buffer is written in full before it is read
    private static void TileAvx512(in QuantizedTile a, sbyte* b, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        // The tile's sums go through memory to a separate epilogue, and this buffer is taken before the
        // loop: with any call after the loop while the 16 accumulators are live (a stackalloc's zeroing, an
        // epilogue not inlined), the JIT stores every accumulator on every step (measured: 187 against
        // 300+ GOP/s).
        var sums = stackalloc int[MR * NR];
        byte* a0 = a.Row(0), a1 = a.Row(1), a2 = a.Row(2), a3 = a.Row(3);
        byte* a4 = a.Row(4), a5 = a.Row(5), a6 = a.Row(6), a7 = a.Row(7);
        var ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<int> c60 = default, c61 = default, c70 = default, c71 = default;
        nint ao = 0;
        nint aoEnd = (nint)a.KQuads * 4;
        while (ao != aoEnd)
        {
            var b0 = Vector512.Load(b);      // columns 0..15 × 4 depths
            var b1 = Vector512.Load(b + 64); // columns 16..31 × 4 depths
            var x = Vector512.Create(*(int*)(a0 + ao)).AsByte();
            c00 += Dot4(x, b0, ones);
            c01 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a1 + ao)).AsByte();
            c10 += Dot4(x, b0, ones);
            c11 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a2 + ao)).AsByte();
            c20 += Dot4(x, b0, ones);
            c21 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a3 + ao)).AsByte();
            c30 += Dot4(x, b0, ones);
            c31 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a4 + ao)).AsByte();
            c40 += Dot4(x, b0, ones);
            c41 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a5 + ao)).AsByte();
            c50 += Dot4(x, b0, ones);
            c51 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a6 + ao)).AsByte();
            c60 += Dot4(x, b0, ones);
            c61 += Dot4(x, b1, ones);
            x = Vector512.Create(*(int*)(a7 + ao)).AsByte();
            c70 += Dot4(x, b0, ones);
            c71 += Dot4(x, b1, ones);
            ao += 4;
            b += 128;
        }
        c00.Store(sums); c01.Store(sums + 16); c10.Store(sums + 32); c11.Store(sums + 48);
        c20.Store(sums + 64); c21.Store(sums + 80); c30.Store(sums + 96); c31.Store(sums + 112);
        c40.Store(sums + 128); c41.Store(sums + 144); c50.Store(sums + 160); c51.Store(sums + 176);
        c60.Store(sums + 192); c61.Store(sums + 208); c70.Store(sums + 224); c71.Store(sums + 240);
        EpilogueAvx512(sums, a, colScales, colSums, bias, beta, c, ldc, cols);
    }

    /// <summary>
    /// The dequantizing epilogue of a tile, row by row: y = (acc − z·Σqw)·(rowScale·colScale) + bias (+ beta·C).
    /// Never inlined: the kernel calls it after its accumulators are stored and dead.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EpilogueAvx512(int* sums, in QuantizedTile a, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - 16)).AsSingle();
        var scale0 = Vector512.Load(colScales);
        var scale1 = Vector512.Load(colScales + 16);
        var sum0 = Vector512.Load(colSums);
        var sum1 = Vector512.Load(colSums + 16);
        var bias0 = bias is null ? default : Avx512F.MaskLoad(bias, mask0, Vector512<float>.Zero);
        var bias1 = bias is null ? default : Avx512F.MaskLoad(bias + 16, mask1, Vector512<float>.Zero);
        for (int r = 0; r < a.Rows; r++)
        {
            var rs = Vector512.Create(a.RowScales[r]);
            var z = Vector512.Create(a.RowZeroPoints[r]);
            float* cr = c + r * ldc;
            var y0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Vector512.Load(sums + r * NR) - z * sum0), rs * scale0, bias0);
            var y1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Vector512.Load(sums + r * NR + 16) - z * sum1), rs * scale1, bias1);
            if (beta != 0f)
            {
                var vb = Vector512.Create(beta);
                y0 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(cr, mask0, Vector512<float>.Zero), y0);
                y1 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(cr + 16, mask1, Vector512<float>.Zero), y1);
            }
            Avx512F.MaskStore(cr, mask0, y0);
            Avx512F.MaskStore(cr + 16, mask1, y1);
        }
    }

    /// <summary>The AVX2 tile, one row at a time × 32 columns (4 ymm accumulators): same sums at 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAvx2(in QuantizedTile a, sbyte* b, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var acc = stackalloc int[NR];
        var ones = Vector256.Create((short)1);
        for (int r = 0; r < a.Rows; r++)
        {
            byte* ar = a.Row(r);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            sbyte* bp = b;
            for (int g = 0; g < a.KQuads; g++)
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
            StoreRowScalar(acc, a.RowScales[r], a.RowZeroPoints[r], colScales, colSums, bias, beta, c + r * ldc, cols);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(in QuantizedTile a, sbyte* b, float* colScales, int* colSums, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var acc = stackalloc int[NR];
        for (int r = 0; r < a.Rows; r++)
        {
            byte* ar = a.Row(r);
            for (int j = 0; j < NR; j++) acc[j] = 0;
            sbyte* bp = b;
            for (int g = 0; g < a.KQuads; g++)
            {
                int x0 = ar[4 * g], x1 = ar[4 * g + 1], x2 = ar[4 * g + 2], x3 = ar[4 * g + 3];
                for (int j = 0; j < NR; j++) acc[j] += x0 * bp[4 * j] + x1 * bp[4 * j + 1] + x2 * bp[4 * j + 2] + x3 * bp[4 * j + 3];
                bp += 4 * NR;
            }
            StoreRowScalar(acc, a.RowScales[r], a.RowZeroPoints[r], colScales, colSums, bias, beta, c + r * ldc, cols);
        }
    }

    /// <summary>The epilogue of one row in scalar code, with the same operation order (and FMA) as the vector one.</summary>
    private static void StoreRowScalar(int* acc, float rowScale, int zeroPoint, float* colScales, int* colSums, float* bias, float beta, float* c, int cols)
    {
        for (int j = 0; j < cols; j++)
        {
            float y = MathF.FusedMultiplyAdd(unchecked(acc[j] - zeroPoint * colSums[j]), rowScale * colScales[j], bias is null ? 0f : bias[j]);
            c[j] = beta != 0f ? MathF.FusedMultiplyAdd(beta, c[j], y) : y;
        }
    }
}

/// <summary>
/// The naive quantized product <see cref="QuantizedGemm"/> is tested against: the same codes (the
/// shared quantization helpers), exact integer sums Σ (u − z)·qw in long, the dequantization in double.
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
            bool finite = true;
            foreach (float v in row)
            {
                finite &= float.IsFinite(v);
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            var (scale, inverse, zero) = QuantizedGemm.RowParameters(finite ? min : float.NaN, max);
            for (int d = 0; d < k; d++) codes[d] = QuantizedGemm.QuantizeValue(row[d], inverse, zero);
            for (int j = 0; j < n; j++)
            {
                long dot = 0;
                for (int d = 0; d < k; d++) dot += (codes[d] - zero) * weights.Code(j, d);
                double y = dot * ((double)scale * weights.Scales[j]) + (bias.IsEmpty ? 0 : bias[j]);
                if (beta != 0f) y += beta * (double)c[i * ldc + j];
                c[i * ldc + j] = (float)y;
            }
        }
    }
}
