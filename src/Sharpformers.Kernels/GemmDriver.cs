using System.Runtime.CompilerServices;
namespace Sharpformers.Kernels;

/// <summary>
/// One GEMM as the blocked driver sees it: op(A) read in place (row-major) or pre-packed in panels
/// (transposed), B already packed in <see cref="Layout"/>, C written in place.
/// </summary>
internal unsafe struct GemmProblem
{
    public Transpose TransA;
    public int M;
    public int N;
    public float Alpha;
    public float Beta;
    public float* A;
    public nint Lda;

    /// <summary>op(A) packed in MR-row panels per k block (transposed A), or null when A is read in place.</summary>
    public float* PackedA;
    public float* PackedB;

    /// <summary>n column biases added once (on the first k block), or null.</summary>
    public float* Bias;

    /// <summary>Applied to each finished tile (after the last k block).</summary>
    public EpilogueActivation Activation;
    public GemmLayout Layout;
    public float* C;
    public nint Ldc;
}

/// <summary>
/// The cache-blocked loops around the micro-kernel, generic over the instruction set. The order is
/// BLIS's (with A and B in swapped roles because our vectors run along n): for each k block, each
/// MR-row micro-panel of A stays in L1 (8 rows × ≤512 deep = 16 KB) while the task's B slice
/// (k block × a few panels, sized to L2) streams past it panel by panel; C tiles are updated in place.
/// Short tasks (a few tokens) swap the two inner loops instead, see <see cref="ShortRows"/>.
/// Row-major A needs no packing: the kernel reads MR rows through row pointers. Transposed A arrives
/// packed in MR-row panels (see <see cref="GemmPacking.PackTransposedA"/>).
/// </summary>
internal static unsafe class GemmDriver<TK> where TK : struct, IGemmKernelSet
{
    /// <summary>
    /// At most this many rows (a few A micro-panels, ≤ 32 × 512 floats = 64 KB) are swept per B panel
    /// while the panel is in L1: with few rows each B element feeds only m multiply-adds, so B comes
    /// from memory once and is used by every row panel before it is evicted.
    /// </summary>
    public const int ShortRows = 32;

    /// <summary>C rows [row0, row1) × B panels [panel0, panel1), all of k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeBlock(in GemmProblem p, int row0, int row1, int panel0, int panel1)
    {
        var layout = p.Layout;
        int mr = TK.MR;
        bool shortC = row1 - row0 <= ShortRows;
        for (int block = 0; block < layout.KBlocks; block++)
        {
            int k0 = block * layout.KcBlock;
            int depth = layout.BlockDepth(block);
            float beta = block == 0 ? p.Beta : 1f;
            if (shortC)
            {
                for (int j = panel0; j < panel1; j++)
                {
                    for (int i = row0; i < row1; i += mr)
                    {
                        Tile(p, block, k0, depth, i, Math.Min(mr, row1 - i), j, beta);
                    }
                }
            }
            else
            {
                for (int i = row0; i < row1; i += mr)
                {
                    for (int j = panel0; j < panel1; j++)
                    {
                        Tile(p, block, k0, depth, i, Math.Min(mr, row1 - i), j, beta);
                    }
                }
            }
        }
    }

    /// <summary>One micro-tile: rows [i, i + rows) × panel j over k block <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(in GemmProblem p, int block, int k0, int depth, int i, int rows, int j, float beta)
    {
        var layout = p.Layout;
        int mr = TK.MR;
        float* a;
        nint rsA, csA;
        if (p.PackedA is null)
        {
            a = p.A + i * p.Lda + k0;
            rsA = p.Lda;
            csA = 1;
        }
        else
        {
            a = p.PackedA + (long)k0 * GemmPacking.PaddedRows(p.M, mr) + (long)i * depth;
            rsA = 1;
            csA = mr;
        }
        int col0 = j * layout.PanelWidth;
        int width = layout.PanelStoredWidth(j);
        int cols = Math.Min(width, p.N - col0);
        TK.Tile(width, depth, a, rsA, csA, rows, p.PackedB + layout.PanelOffset(block, j), width,
            p.C + i * p.Ldc + col0, p.Ldc, cols, p.Alpha, beta, block == 0 && p.Bias is not null ? p.Bias + col0 : null);
        if (p.Activation != EpilogueActivation.None && block == layout.KBlocks - 1)
        {
            GemmEpilogue.Apply(p.Activation, p.C + i * p.Ldc + col0, p.Ldc, rows, cols);
        }
    }
}
