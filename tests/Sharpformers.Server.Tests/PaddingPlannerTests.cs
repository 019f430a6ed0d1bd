namespace Sharpformers.Server.Tests;

/// <summary>The split of a mixed-length batch into padded sub-batches.</summary>
public sealed class PaddingPlannerTests
{
    private static double Cost(IEnumerable<int[]> groups, int[] lengths, int hidden)
    {
        double scale = 1.0 / (6.0 * hidden);
        double Pass(int rows, int longest) => rows * longest * (1 + longest * scale);
        return groups.Sum(g => Pass(1, PaddingPlanner.OverheadTokens) + Pass(g.Length, g.Max(i => lengths[i])));
    }

    [Fact]
    public void SimilarLengthsStayOneBatch()
    {
        Assert.Equal([[0, 1, 2, 3]], PaddingPlanner.Split([20, 22, 25, 30], 768));
        Assert.Equal([[0]], PaddingPlanner.Split([512], 768));
        Assert.Equal([[1, 0, 2]], PaddingPlanner.Split([9, 8, 9], 32)); // sorted by length, ties in order
    }

    [Fact]
    public void OneLongInputRunsApart()
    {
        Assert.Equal([[0, 2], [1]], PaddingPlanner.Split([10, 500, 12], 768));
        // Two clusters of lengths.
        var groups = PaddingPlanner.Split([16, 300, 18, 310, 15, 305], 768);
        Assert.Equal([[4, 0, 2], [1, 5, 3]], groups);
    }

    [Fact]
    public void TheSplitIsTheCheapestOfAllConsecutiveSplits()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 11);
            int hidden = trial % 2 == 0 ? 32 : 768;
            var lengths = Enumerable.Range(0, n).Select(_ => random.Next(1, 513)).ToArray();
            var groups = PaddingPlanner.Split(lengths, hidden);
            Assert.Equal(Enumerable.Range(0, n), groups.SelectMany(g => g).Order()); // every input exactly once
            foreach (var g in groups) Assert.True(g.Select(i => lengths[i]).SequenceEqual(g.Select(i => lengths[i]).Order()));

            // Brute force: every way to cut the sorted order into consecutive groups.
            var sorted = Enumerable.Range(0, n).OrderBy(i => lengths[i]).ToArray();
            double bestCost = double.PositiveInfinity;
            for (int cuts = 0; cuts < 1 << (n - 1); cuts++)
            {
                var split = new List<int[]>();
                int from = 0;
                for (int k = 1; k <= n; k++)
                {
                    if (k == n || (cuts & (1 << (k - 1))) != 0)
                    {
                        split.Add(sorted[from..k]);
                        from = k;
                    }
                }
                bestCost = Math.Min(bestCost, Cost(split, lengths, hidden));
            }
            Assert.Equal(bestCost, Cost(groups, lengths, hidden), 6);
        }
    }
}
