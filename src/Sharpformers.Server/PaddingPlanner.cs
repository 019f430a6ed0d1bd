namespace Sharpformers.Server;

/// <summary>
/// Splits a batch of inputs of different lengths into sub-batches so that padding does not waste the
/// time batching saves. A padded forward pass costs about <c>rows × longest</c> token-steps (each step
/// is ~12·H² multiply-adds in the linear layers plus 2·T·H in attention), and every extra forward pass
/// costs a fixed overhead. Over the inputs sorted by length, the cheapest split into consecutive groups
/// is found exactly by dynamic programming (n ≤ the batch size, so O(n²) is nothing).
/// </summary>
internal static class PaddingPlanner
{
    /// <summary>The fixed cost of one more forward pass, in token-steps (conservative: splitting must clearly pay).</summary>
    public const int OverheadTokens = 32;

    /// <summary>Groups of indices into <paramref name="lengths"/>; each group is one forward pass padded to its longest.</summary>
    public static List<int[]> Split(IReadOnlyList<int> lengths, int hiddenSize)
    {
        int n = lengths.Count;
        if (n <= 1) return [Enumerable.Range(0, n).ToArray()];
        var order = Enumerable.Range(0, n).OrderBy(i => lengths[i]).ToArray();
        double attentionScale = 1.0 / (6.0 * Math.Max(1, hiddenSize));
        double Cost(int rows, int longest) => rows * longest * (1 + longest * attentionScale);
        double overhead = Cost(1, OverheadTokens);

        // best[j]: cheapest cost of the first j sorted inputs; start[j]: where the last group of that split begins.
        var best = new double[n + 1];
        var start = new int[n + 1];
        for (int j = 1; j <= n; j++)
        {
            best[j] = double.PositiveInfinity;
            int longest = lengths[order[j - 1]];
            for (int i = 1; i <= j; i++)
            {
                double cost = best[i - 1] + overhead + Cost(j - i + 1, longest);
                if (cost < best[j])
                {
                    best[j] = cost;
                    start[j] = i;
                }
            }
        }
        var groups = new List<int[]>();
        for (int j = n; j > 0; j = start[j] - 1)
        {
            groups.Add(order[(start[j] - 1)..j]);
        }
        groups.Reverse();
        return groups;
    }
}
