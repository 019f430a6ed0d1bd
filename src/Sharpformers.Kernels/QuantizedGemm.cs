using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sharpformers.Kernels;

/// <summary>
/// Dynamic quantization for linear layers with int8 weights (as torch.quantization.quantize_dynamic
/// does for nn.Linear): weights are quantized once, symmetric per output channel to int8 in
/// [-127, 127]; activations are quantized at every product, symmetric per row (token) to 16-bit
/// integer codes; products accumulate exactly in int32 and are scaled back to float in the epilogue:
/// <code>
/// y[m, n] = sx[m]·sw[n]·Σ_k qx[m, k]·qw[n, k] + bias[n]
/// </code>
/// The multiply is AVX-512BW's vpmaddwd (16-bit × 16-bit, adjacent pairs summed into int32, never
/// saturating), with the int8 weight panels sign-extended on load (vpmovsxbw): 32 multiply-adds per
/// instruction, twice the float32 FMA's 16. vpmaddubsw (u8 × s8) would do 64, but it saturates its int16
/// pair sums unless activations are cut to 7 bits (torch's "reduce_range"), which costs accuracy; here
/// the activation codes use as many bits as the int32 accumulator allows for the product's depth
/// (|qx| ≤ (2³¹ − 1) / (127·k), capped at 32,767: 13+ bits for BERT's k ≤ 3072), so the quantization
/// error is essentially the weights' 8 bits. Naive twin: <see cref="QuantizedGemmReference"/>; the AVX2 and
/// scalar paths give identical results.
/// </summary>
public static class QuantizedGemm
{
    /// <summary>Below this many multiply-adds a product runs on one thread.</summary>
    private const long ParallelMinMacs = 1L << 20;

    /// <summary>Largest weight code magnitude.</summary>
    public const int WeightLevels = 127;

    /// <summary>
    /// Largest activation code magnitude for a product of depth <paramref name="k"/>: the int32 sums of
    /// k products of |qx| ≤ limit and |qw| ≤ 127 cannot overflow.
    /// </summary>
    public static int ActivationLimit(int k) => (int)Math.Clamp(int.MaxValue / (WeightLevels * (long)Math.Max(1, (k + 1) & ~1)), 1, short.MaxValue);

    [ThreadStatic]
    private static ComputeJob? cachedJob;

    [ThreadStatic]
    private static QuantizeJob? cachedQuantizeJob;

    [ThreadStatic]
    private static short[]? scratchCodes;

    [ThreadStatic]
    private static float[]? scratchScales;

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
        var q = scratchCodes is { } sq && sq.Length >= qLength ? sq : (scratchCodes = GC.AllocateUninitializedArray<short>((int)Math.Max(qLength, 4096), pinned: true));
        var scales = scratchScales is { } ss && ss.Length >= m ? ss : (scratchScales = GC.AllocateUninitializedArray<float>(Math.Max(m, 256), pinned: true));
        int threads = (long)m * n * k < ParallelMinMacs ? 1 : KernelParallel.AvailableThreads;
        int limit = ActivationLimit(k);
        fixed (float* px = x)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        fixed (short* pq = q)
        fixed (float* pscales = scales)
        {
            QuantizeRowsParallel(px, ldx, m, k, pq, kp, pscales, limit, threads);
            var problem = new QuantizedProblem
            {
                M = m, N = n, KPairs = kp / 2, A = pq, Lda = kp, RowScales = pscales,
                B = weights.Data, ColumnScales = weights.ScalesPointer,
                Bias = bias.IsEmpty ? null : pbias, Beta = beta, C = pc, Ldc = ldc, Activation = activation,
                Isa = QuantizedKernels.Current,
            };
            Compute(problem, threads);
            GC.KeepAlive(weights);
        }
    }

    /// <summary>
    /// Quantizes rows of x (rows, cols) to integer codes (rows, ldq), zero past cols:
    /// q = clamp(round(x · limit / max|x_row|), ±limit), and writes each row's scale max|x_row| / limit.
    /// </summary>
    public static unsafe void QuantizeRows(ReadOnlySpan<float> x, int rows, int cols, int ldx, int limit, Span<short> q, int ldq, Span<float> scales)
    {
        GemmChecks.Operand(Transpose.No, rows, cols, x.Length, ldx, nameof(x));
        if (limit < 1 || limit > short.MaxValue) KernelThrow.Argument(nameof(limit), $"limit must be in [1, {short.MaxValue}], got {limit}.");
        if (ldq < cols) KernelThrow.Argument(nameof(ldq), $"ldq {ldq} is smaller than cols {cols}.");
        if ((long)rows * ldq > q.Length) KernelThrow.DestinationTooShort(nameof(q));
        if (scales.Length < rows) KernelThrow.DestinationTooShort(nameof(scales));
        fixed (float* px = x)
        fixed (short* pq = q)
        fixed (float* ps = scales)
        {
            for (int r = 0; r < rows; r++) QuantizeRow(px + (long)r * ldx, cols, pq + (long)r * ldq, ldq, ps + r, limit);
        }
    }

    /// <summary>A row's scale and the factor its codes are computed with (shared with the reference).</summary>
    public static (float Scale, float Inverse) RowParameters(float maxAbs, int limit)
    {
        if (!(maxAbs > 0f)) return (0f, 0f);
        if (!float.IsFinite(maxAbs)) return (float.NaN, 0f);
        return (maxAbs / limit, limit / maxAbs);
    }

    /// <summary>One activation code (shared with the reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short QuantizeValue(float x, float inverse, int limit) =>
        (short)Math.Clamp(MathF.Round(x * inverse), -limit, limit);

    private static unsafe void QuantizeRowsParallel(float* x, nint ldx, int m, int k, short* q, int kp, float* scales, int limit, int threads)
    {
        if (threads == 1 || (long)m * k < 64 * 1024)
        {
            for (int r = 0; r < m; r++) QuantizeRow(x + r * ldx, k, q + (long)r * kp, kp, scales + r, limit);
            return;
        }
        var job = cachedQuantizeJob ?? new QuantizeJob();
        cachedQuantizeJob = null;
        try
        {
            job.X = x; job.Ldx = ldx; job.M = m; job.K = k; job.Q = q; job.Kp = kp; job.Scales = scales; job.Limit = limit;
            job.Chunks = Math.Min(m, threads * 4);
            KernelParallel.For(job.Chunks, job);
        }
        finally
        {
            cachedQuantizeJob = job;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void QuantizeRow(float* x, int cols, short* q, int ldq, float* scale, int limit)
    {
        float amax = 0f;
        int j = 0;
        if (Vector512.IsHardwareAccelerated && cols >= 16)
        {
            var vmax = Vector512<float>.Zero;
            for (; j <= cols - 16; j += 16) vmax = Vector512.Max(vmax, Vector512.Abs(Vector512.Load(x + j)));
            for (int l = 0; l < 16; l++) amax = MaxPropagatingNaN(amax, vmax[l]);
        }
        for (; j < cols; j++) amax = MaxPropagatingNaN(amax, Math.Abs(x[j]));
        var (s, inverse) = RowParameters(amax, limit);
        *scale = s;
        j = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inverse);
            var lo = Vector512.Create(-limit);
            var hi = Vector512.Create(limit);
            for (; j <= cols - 16; j += 16)
            {
                // cvtps2dq rounds half to even, as MathF.Round does; |x·inverse| ≤ limit, so no overflow.
                var codes = Vector512.Min(Vector512.Max(Avx512F.ConvertToVector512Int32(Vector512.Load(x + j) * vinv), lo), hi);
                Vector256.Store(Avx512F.ConvertToVector256Int16WithSaturation(codes), q + j);
            }
        }
        for (; j < cols; j++) q[j] = QuantizeValue(x[j], inverse, limit);
        for (; j < ldq; j++) q[j] = 0;
    }

    private static float MaxPropagatingNaN(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : Math.Max(a, b);

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
        long panelBytes = (long)p.KPairs * 2 * nr;
        int slicePanels = SlicePanels(p);
        // Per slice of panels (in L2), each MR-row micro-panel of codes (in L1) meets every panel of the slice.
        for (int s0 = panel0; s0 < panel1; s0 += slicePanels)
        {
            int s1 = Math.Min(panel1, s0 + slicePanels);
            for (int i = row0; i < row1; i += mr)
            {
                int rows = Math.Min(mr, row1 - i);
                for (int j = s0; j < s1; j++)
                {
                    int col0 = j * nr;
                    int cols = Math.Min(nr, p.N - col0);
                    QuantizedKernels.Tile(p.Isa, p.KPairs, p.A + (long)i * p.Lda, p.Lda, rows, p.B + j * panelBytes,
                        p.RowScales + i, p.ColumnScales + col0, p.Bias is null ? null : p.Bias + col0,
                        p.Beta, p.C + i * p.Ldc + col0, p.Ldc, cols);
                    if (p.Activation != EpilogueActivation.None) GemmEpilogue.Apply(p.Activation, p.C + i * p.Ldc + col0, p.Ldc, rows, cols);
                }
            }
        }
    }

    /// <summary>Weight panels per slice: about 256 KB, a quarter of Zen's L2, beside the codes streaming through.</summary>
    private static int SlicePanels(in QuantizedProblem p) =>
        (int)Math.Max(1, 256 * 1024 / Math.Max(1, (long)p.KPairs * 2 * QuantizedKernels.NR));

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
        public short* Q;
        public int Kp;
        public float* Scales;
        public int Limit;
        public int Chunks;

        public void Invoke(int index)
        {
            int r0 = (int)((long)M * index / Chunks);
            int r1 = (int)((long)M * (index + 1) / Chunks);
            for (int r = r0; r < r1; r++) QuantizeRow(X + r * Ldx, K, Q + (long)r * Kp, Kp, Scales + r, Limit);
        }
    }
}

/// <summary>What one quantized product reads and writes.</summary>
internal unsafe struct QuantizedProblem
{
    public int M;
    public int N;
    public int KPairs;
    public short* A;
    public nint Lda;
    public float* RowScales;
    public sbyte* B;
    public float* ColumnScales;
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
/// panel, each pair of consecutive k holds NR × 2 bytes (column c's 2 codes at 2·c), so a 32-byte load
/// sign-extended to 16 bits feeds vpmaddwd for 16 columns × 2 depths. k is padded to even and n to whole
/// panels with zero codes (scale 0). Immutable; a quarter of the float32 size.
/// </summary>
public sealed unsafe class QuantizedMatrix
{
    private readonly NativeWeightBuffer data;
    private readonly float[] scales;

    private QuantizedMatrix(int k, int n, NativeWeightBuffer data, float[] scales)
    {
        Rows = k;
        Columns = n;
        this.data = data;
        this.scales = scales;
    }

    /// <summary>k: the input width.</summary>
    public int Rows { get; }

    /// <summary>n: the output width.</summary>
    public int Columns { get; }

    /// <summary>k rounded up to even.</summary>
    public int PaddedDepth => (Rows + 1) & ~1;

    public long SizeInBytes => data.Bytes + scales.Length * 4L;

    /// <summary>The per-output-channel scales sw (n values).</summary>
    public ReadOnlySpan<float> Scales => scales.AsSpan(0, Columns);

    internal sbyte* Data => (sbyte*)data.Pointer;

    internal float* ScalesPointer => (float*)Unsafe.AsPointer(ref scales[0]);

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
        return (long)(column / nr) * paddedDepth * nr + (long)(depth / 2) * 2 * nr + (column % nr) * 2 + depth % 2;
    }

    /// <summary>
    /// Quantizes W (n rows of k, row-major: a linear layer's (out, in) weight) per row to int8:
    /// sw = max|w| / 127, q = round(w / sw).
    /// </summary>
    public static QuantizedMatrix QuantizeWeights(ReadOnlySpan<float> w, int n, int k)
    {
        if (n < 0) KernelThrow.Argument(nameof(n), "n must be non-negative.");
        if (k < 0) KernelThrow.Argument(nameof(k), "k must be non-negative.");
        if ((long)n * k > w.Length) KernelThrow.SourceTooShort(nameof(w));
        int nr = QuantizedKernels.NR;
        int kp = (k + 1) & ~1;
        int paddedN = (n + nr - 1) / nr * nr;
        long length = Math.Max(1, checked((long)paddedN * kp));
        var data = new NativeWeightBuffer(length);
        var codes = new Span<sbyte>(data.Pointer, checked((int)length));
        codes.Clear();
        var scales = GC.AllocateArray<float>(Math.Max(1, paddedN), pinned: true);
        for (int col = 0; col < n; col++)
        {
            var row = w.Slice(col * k, k);
            var (scale, inverse) = WeightParameters(row);
            scales[col] = scale;
            int columnBase = (int)Offset(col, 0, kp);
            for (int d = 0; d < k; d++) codes[columnBase + (d >> 1) * 2 * nr + (d & 1)] = QuantizeWeight(row[d], inverse);
        }
        return new QuantizedMatrix(k, n, data, scales);
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
/// The quantized micro-kernels: an MR × NR tile of C from MR rows of 16-bit activation codes and one
/// packed int8 weight panel, with the dequantizing epilogue. AVX-512BW (vpmovsxbw + vpmaddwd), AVX2 (the
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
    public static void Tile(Level level, int kPairs, short* a, nint lda, int rows, sbyte* b,
        float* rowScales, float* colScales, float* bias, float beta, float* c, nint ldc, int cols)
    {
        switch (level)
        {
            case Level.Avx512: TileAvx512(kPairs, a, lda, rows, b, rowScales, colScales, bias, beta, c, ldc, cols); break;
            case Level.Avx2: TileAvx2(kPairs, a, lda, rows, b, rowScales, colScales, bias, beta, c, ldc, cols); break;
            default: TileScalar(kPairs, a, lda, rows, b, rowScales, colScales, bias, beta, c, ldc, cols); break;
        }
    }

    /// <summary>8 rows × 32 columns: 16 int32 accumulators (two per row); rows past <paramref name="rows"/> alias row 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAvx512(int kPairs, short* a, nint lda, int rows, sbyte* b,
        float* rowScales, float* colScales, float* bias, float beta, float* c, nint ldc, int cols)
    {
        short* a0 = a;
        short* a1 = rows > 1 ? a + 1 * lda : a;
        short* a2 = rows > 2 ? a + 2 * lda : a;
        short* a3 = rows > 3 ? a + 3 * lda : a;
        short* a4 = rows > 4 ? a + 4 * lda : a;
        short* a5 = rows > 5 ? a + 5 * lda : a;
        short* a6 = rows > 6 ? a + 6 * lda : a;
        short* a7 = rows > 7 ? a + 7 * lda : a;
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<int> c60 = default, c61 = default, c70 = default, c71 = default;
        nint ao = 0;
        nint aoEnd = (nint)kPairs * 2;
        while (ao != aoEnd)
        {
            var b0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b));
            var b1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b + 32));
            var x = Vector512.Create(*(int*)(a0 + ao)).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c01 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a1 + ao)).AsInt16();
            c10 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c11 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a2 + ao)).AsInt16();
            c20 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c21 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a3 + ao)).AsInt16();
            c30 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c31 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a4 + ao)).AsInt16();
            c40 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c41 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a5 + ao)).AsInt16();
            c50 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c51 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a6 + ao)).AsInt16();
            c60 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c61 += Avx512BW.MultiplyAddAdjacent(x, b1);
            x = Vector512.Create(*(int*)(a7 + ao)).AsInt16();
            c70 += Avx512BW.MultiplyAddAdjacent(x, b0);
            c71 += Avx512BW.MultiplyAddAdjacent(x, b1);
            ao += 2;
            b += 64;
        }
        var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - 16)).AsSingle();
        var scale0 = Vector512.Load(colScales);
        var scale1 = Vector512.Load(colScales + 16);
        var bias0 = bias is null ? default : Avx512F.MaskLoad(bias, mask0, Vector512<float>.Zero);
        var bias1 = bias is null ? default : Avx512F.MaskLoad(bias + 16, mask1, Vector512<float>.Zero);
        Store512(c00, c01, rowScales[0], scale0, scale1, bias0, bias1, beta, c, mask0, mask1);
        if (rows <= 1) return;
        Store512(c10, c11, rowScales[1], scale0, scale1, bias0, bias1, beta, c + ldc, mask0, mask1);
        if (rows <= 2) return;
        Store512(c20, c21, rowScales[2], scale0, scale1, bias0, bias1, beta, c + 2 * ldc, mask0, mask1);
        if (rows <= 3) return;
        Store512(c30, c31, rowScales[3], scale0, scale1, bias0, bias1, beta, c + 3 * ldc, mask0, mask1);
        if (rows <= 4) return;
        Store512(c40, c41, rowScales[4], scale0, scale1, bias0, bias1, beta, c + 4 * ldc, mask0, mask1);
        if (rows <= 5) return;
        Store512(c50, c51, rowScales[5], scale0, scale1, bias0, bias1, beta, c + 5 * ldc, mask0, mask1);
        if (rows <= 6) return;
        Store512(c60, c61, rowScales[6], scale0, scale1, bias0, bias1, beta, c + 6 * ldc, mask0, mask1);
        if (rows <= 7) return;
        Store512(c70, c71, rowScales[7], scale0, scale1, bias0, bias1, beta, c + 7 * ldc, mask0, mask1);
    }

    /// <summary>One row of the tile: y = acc·(rowScale·colScale) + bias (+ beta·C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<int> acc0, Vector512<int> acc1, float rowScale,
        Vector512<float> scale0, Vector512<float> scale1, Vector512<float> bias0, Vector512<float> bias1, float beta, float* c,
        Vector512<float> mask0, Vector512<float> mask1)
    {
        var rs = Vector512.Create(rowScale);
        var y0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc0), rs * scale0, bias0);
        var y1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc1), rs * scale1, bias1);
        if (beta != 0f)
        {
            var vb = Vector512.Create(beta);
            y0 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c, mask0, Vector512<float>.Zero), y0);
            y1 = Avx512F.FusedMultiplyAdd(vb, Avx512F.MaskLoad(c + 16, mask1, Vector512<float>.Zero), y1);
        }
        Avx512F.MaskStore(c, mask0, y0);
        Avx512F.MaskStore(c + 16, mask1, y1);
    }

    /// <summary>The AVX2 tile, one row at a time × 32 columns (4 ymm accumulators): same sums at 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAvx2(int kPairs, short* a, nint lda, int rows, sbyte* b,
        float* rowScales, float* colScales, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var acc = stackalloc int[NR];
        for (int r = 0; r < rows; r++)
        {
            short* ar = a + r * lda;
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            sbyte* bp = b;
            for (int g = 0; g < kPairs; g++)
            {
                var x = Vector256.Create(*(int*)(ar + 2 * g)).AsInt16();
                s0 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.Load(bp)));
                s1 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.Load(bp + 16)));
                s2 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.Load(bp + 32)));
                s3 += Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(Vector128.Load(bp + 48)));
                bp += 64;
            }
            s0.Store(acc);
            s1.Store(acc + 8);
            s2.Store(acc + 16);
            s3.Store(acc + 24);
            StoreRowScalar(acc, rowScales[r], colScales, bias, beta, c + r * ldc, cols);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(int kPairs, short* a, nint lda, int rows, sbyte* b,
        float* rowScales, float* colScales, float* bias, float beta, float* c, nint ldc, int cols)
    {
        var acc = stackalloc int[NR];
        for (int r = 0; r < rows; r++)
        {
            short* ar = a + r * lda;
            for (int j = 0; j < NR; j++) acc[j] = 0;
            sbyte* bp = b;
            for (int g = 0; g < kPairs; g++)
            {
                int x0 = ar[2 * g], x1 = ar[2 * g + 1];
                for (int j = 0; j < NR; j++) acc[j] += x0 * bp[2 * j] + x1 * bp[2 * j + 1];
                bp += 64;
            }
            StoreRowScalar(acc, rowScales[r], colScales, bias, beta, c + r * ldc, cols);
        }
    }

    /// <summary>The epilogue of one row in scalar code, with the same operation order (and FMA) as the vector one.</summary>
    private static void StoreRowScalar(int* acc, float rowScale, float* colScales, float* bias, float beta, float* c, int cols)
    {
        for (int j = 0; j < cols; j++)
        {
            float y = MathF.FusedMultiplyAdd(acc[j], rowScale * colScales[j], bias is null ? 0f : bias[j]);
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
        int limit = QuantizedGemm.ActivationLimit(k);
        var codes = new short[k];
        for (int i = 0; i < m; i++)
        {
            var row = x.Slice(i * ldx, k);
            float amax = 0f;
            foreach (float v in row) amax = float.IsNaN(v) ? float.NaN : Math.Max(amax, Math.Abs(v));
            var (scale, inverse) = QuantizedGemm.RowParameters(amax, limit);
            for (int d = 0; d < k; d++) codes[d] = QuantizedGemm.QuantizeValue(row[d], inverse, limit);
            for (int j = 0; j < n; j++)
            {
                long dot = 0;
                for (int d = 0; d < k; d++) dot += codes[d] * weights.Code(j, d);
                double y = dot * ((double)scale * weights.Scales[j]) + (bias.IsEmpty ? 0 : bias[j]);
                if (beta != 0f) y += beta * (double)c[i * ldc + j];
                c[i * ldc + j] = (float)y;
            }
        }
    }
}
