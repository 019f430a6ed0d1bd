namespace Sharpformers.Kernels;

/// <summary>
/// Splits one GEMM over threads and runs it: packs B (in parallel) unless it comes pre-packed, then
/// hands out rectangles of C (row groups × groups of B panels) through <see cref="KernelParallel"/>.
/// Rectangles are independent (each reads its A rows and its B panels, writes its own C), so threads
/// never wait on each other inside a GEMM and the atomic hand-out balances a core that another process
/// is slowing down. The per-call job objects are cached per thread: a steady stream of GEMMs allocates
/// nothing.
/// </summary>
internal static unsafe class GemmRunner<TK> where TK : struct, IGemmKernelSet
{
    /// <summary>Bytes of B one rectangle streams per k block: about half of Zen's 1 MB L2, the rest is for A and C.</summary>
    private const int SliceBytes = 512 * 1024;

    [ThreadStatic]
    private static ComputeJob? cachedCompute;

    [ThreadStatic]
    private static PackJob? cachedPack;

    /// <summary>C = alpha · op(A) · op(B) + bias + beta · C with B (and transposed A) packed here first.</summary>
    public static void Run(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float* bias, float beta, float* c, nint ldc, int threads)
    {
        var layout = GemmLayout.For<TK>(k, n);
        var packedB = GemmScratch.RentPackedB(layout.PackedLength);
        var packedA = transA == Transpose.Yes ? GemmScratch.RentPackedA(PackedALength(layout, m)) : null;
        try
        {
            Pack(layout, m, transA == Transpose.Yes ? a : null, lda, b, transB, ldb, packedA, packedB.Pointer, threads);
            var problem = new GemmProblem
            {
                TransA = transA, M = m, N = n, Alpha = alpha, Beta = beta, A = a, Lda = lda,
                PackedA = packedA is null ? null : packedA.Pointer, PackedB = packedB.Pointer, Bias = bias, Layout = layout, C = c, Ldc = ldc,
            };
            Compute(problem, threads);
        }
        finally
        {
            GemmScratch.ReturnPackedB(packedB);
            if (packedA is not null) GemmScratch.ReturnPackedA(packedA);
        }
    }

    /// <summary>C = alpha · op(A) · B + bias + beta · C with B pre-packed by <see cref="Gemm.PackB"/>.</summary>
    public static void RunPacked(Transpose transA, int m, float alpha, float* a, nint lda, PackedMatrix b, float* bias, float beta, float* c, nint ldc,
        EpilogueActivation activation, int threads)
    {
        var layout = b.Layout;
        var packedA = transA == Transpose.Yes ? GemmScratch.RentPackedA(PackedALength(layout, m)) : null;
        try
        {
            if (packedA is not null) Pack(layout, m, a, lda, null, Transpose.No, 0, packedA, null, threads);
            var problem = new GemmProblem
            {
                TransA = transA, M = m, N = layout.N, Alpha = alpha, Beta = beta, A = a, Lda = lda,
                PackedA = packedA is null ? null : packedA.Pointer, PackedB = b.Pointer, Bias = bias, Layout = layout, C = c, Ldc = ldc,
                Activation = activation,
            };
            Compute(problem, threads);
        }
        finally
        {
            if (packedA is not null) GemmScratch.ReturnPackedA(packedA);
            // The kernels read b's buffer through a raw pointer: b must outlive them even when the
            // caller holds no other reference (e.g. Sgemm(..., Gemm.PackB(...), ...)).
            GC.KeepAlive(b);
        }
    }

    /// <summary>Packs all of op(B) into <paramref name="packed"/> (for <see cref="Gemm.PackB"/>).</summary>
    public static void PackB(in GemmLayout layout, Transpose transB, float* b, nint ldb, float* packed, int threads) =>
        Pack(layout, 0, null, 0, b, transB, ldb, null, packed, threads);

    private static long PackedALength(in GemmLayout layout, int m) => (long)layout.K * GemmPacking.PaddedRows(m, TK.MR);

    /// <summary>
    /// Packs op(B) into <paramref name="packedB"/> when <paramref name="b"/> is given and Aᵀ into
    /// <paramref name="packedA"/> when <paramref name="transposedA"/> is given, as one parallel phase.
    /// </summary>
    private static void Pack(in GemmLayout layout, int m, float* transposedA, nint lda, float* b, Transpose transB, nint ldb,
        AlignedBuffer? packedA, float* packedB, int threads)
    {
        const int panelsPerUnit = 4;
        const int rowPanelsPerUnit = 16;
        int bChunks = b is null ? 0 : (layout.Panels + panelsPerUnit - 1) / panelsPerUnit;
        int aChunks = transposedA is null ? 0 : ((m + TK.MR - 1) / TK.MR + rowPanelsPerUnit - 1) / rowPanelsPerUnit;
        int units = layout.KBlocks * (bChunks + aChunks);
        if (units == 0) return;
        var job = cachedPack ?? new PackJob();
        cachedPack = null;
        try
        {
            job.Layout = layout;
            job.M = m;
            job.A = transposedA;
            job.Lda = lda;
            job.PackedA = packedA is null ? null : packedA.Pointer;
            job.AChunks = aChunks;
            job.RowPanelsPerUnit = rowPanelsPerUnit;
            job.B = b;
            job.TransB = transB;
            job.Ldb = ldb;
            job.PackedB = packedB;
            job.BChunks = bChunks;
            job.PanelsPerUnit = panelsPerUnit;
            long elements = (b is null ? 0 : layout.PackedLength) + (transposedA is null ? 0 : (long)layout.K * m);
            if (threads == 1 || units == 1 || elements < 256 * 1024)
            {
                for (int u = 0; u < units; u++) job.Invoke(u);
            }
            else
            {
                KernelParallel.For(units, job);
            }
        }
        finally
        {
            cachedPack = job;
        }
    }

    private static void Compute(in GemmProblem problem, int threads)
    {
        var layout = problem.Layout;
        int mr = TK.MR;
        int rowPanels = (problem.M + mr - 1) / mr;
        int panels = layout.Panels;
        int panelsPerSlice = Math.Max(1, SliceBytes / (layout.KcBlock * layout.PanelWidth * sizeof(float)));
        var (rowGroups, colGroups) = GemmTaskSplit.Split(problem.M, panels, (panels + panelsPerSlice - 1) / panelsPerSlice, threads);
        int tasks = rowGroups * colGroups;
        if (tasks == 1 || threads == 1)
        {
            for (int t = 0; t < tasks; t++) RunTask(problem, t, rowGroups, colGroups, rowPanels, panels);
            return;
        }
        var job = cachedCompute ?? new ComputeJob();
        cachedCompute = null;
        try
        {
            job.Problem = problem;
            job.RowGroups = rowGroups;
            job.ColGroups = colGroups;
            job.RowPanels = rowPanels;
            job.Panels = panels;
            KernelParallel.For(tasks, job);
        }
        finally
        {
            cachedCompute = job;
        }
    }

    /// <summary>Task t covers column group t / rowGroups and row group t % rowGroups (neighbouring tasks share B panels).</summary>
    private static void RunTask(in GemmProblem problem, int task, int rowGroups, int colGroups, int rowPanels, int panels)
    {
        int rowGroup = task % rowGroups;
        int colGroup = task / rowGroups;
        int mr = TK.MR;
        int row0 = (int)((long)rowGroup * rowPanels / rowGroups) * mr;
        int row1 = Math.Min(problem.M, (int)((long)(rowGroup + 1) * rowPanels / rowGroups) * mr);
        int panel0 = (int)((long)colGroup * panels / colGroups);
        int panel1 = (int)((long)(colGroup + 1) * panels / colGroups);
        if (row0 < row1 && panel0 < panel1) GemmDriver<TK>.ComputeBlock(problem, row0, row1, panel0, panel1);
    }

    private sealed class ComputeJob : IParallelBody
    {
        public GemmProblem Problem;
        public int RowGroups;
        public int ColGroups;
        public int RowPanels;
        public int Panels;

        public void Invoke(int index) => RunTask(Problem, index, RowGroups, ColGroups, RowPanels, Panels);
    }

    /// <summary>Unit u: k block u / (bChunks + aChunks), then a chunk of B panels or of A row panels.</summary>
    private sealed class PackJob : IParallelBody
    {
        public GemmLayout Layout;
        public int M;
        public float* A;
        public nint Lda;
        public float* PackedA;
        public int AChunks;
        public int RowPanelsPerUnit;
        public float* B;
        public Transpose TransB;
        public nint Ldb;
        public float* PackedB;
        public int BChunks;
        public int PanelsPerUnit;

        public void Invoke(int index)
        {
            int perBlock = BChunks + AChunks;
            int block = index / perBlock;
            int chunk = index % perBlock;
            if (chunk < BChunks)
            {
                int panel0 = chunk * PanelsPerUnit;
                int panel1 = Math.Min(Layout.Panels, panel0 + PanelsPerUnit);
                GemmPacking.PackB(Layout, TransB, B, Ldb, block, panel0, panel1, PackedB);
            }
            else
            {
                int mr = TK.MR;
                int rowPanels = (M + mr - 1) / mr;
                int panel0 = (chunk - BChunks) * RowPanelsPerUnit;
                int panel1 = Math.Min(rowPanels, panel0 + RowPanelsPerUnit);
                GemmPacking.PackTransposedA(Layout, M, mr, A, Lda, block, panel0, panel1, PackedA);
            }
        }
    }
}
