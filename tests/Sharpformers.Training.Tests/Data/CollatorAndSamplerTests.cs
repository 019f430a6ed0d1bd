using System.Collections;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

public sealed class CollatorAndSamplerTests
{
    private static readonly TokenizedExample[] Examples =
    [
        new() { InputIds = [101, 7, 102], TokenTypeIds = [0, 0, 0], Label = 1 },
        new() { InputIds = [101, 7, 8, 9, 102], TokenTypeIds = [0, 0, 0, 1, 1], Label = 0 },
    ];

    [Fact]
    public void PadsDynamicallyToTheLongestOnTheRight()
    {
        var batch = new DataCollatorWithPadding(padTokenId: 0).Collate(Examples);
        Assert.Equal((2, 5), (batch.BatchSize, batch.SequenceLength));
        Assert.Equal([101, 7, 102, 0, 0, 101, 7, 8, 9, 102], batch.InputIds);
        Assert.Equal([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], batch.AttentionMask);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 1, 1], batch.TokenTypeIds!);
        Assert.Equal([1, 0], batch.Labels!);
        Assert.Null(batch.FloatLabels);
        Assert.Equal(8, batch.CountRealTokens());
    }

    [Fact]
    public void PadToMultipleOfAndLeftSideAndPadId()
    {
        var collator = new DataCollatorWithPadding(padTokenId: 1) { PadToMultipleOf = 4, PaddingSide = Side.Left, PadTokenTypeId = 2 };
        var batch = collator.Collate(Examples);
        Assert.Equal(8, batch.SequenceLength);
        Assert.Equal([1, 1, 1, 1, 1, 101, 7, 102], batch.InputIds[..8]);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], batch.AttentionMask[..8]);
        Assert.Equal([2, 2, 2, 0, 0, 0, 1, 1], batch.TokenTypeIds![8..]);
        // A length already at a multiple stays.
        Assert.Equal(5, new DataCollatorWithPadding(0) { PadToMultipleOf = 5 }.Collate(Examples).SequenceLength);
    }

    [Fact]
    public void MaxLengthStrategyAndErrors()
    {
        var fixedLength = new DataCollatorWithPadding(0) { Padding = PaddingStrategy.MaxLength, MaxLength = 6 };
        Assert.Equal(6, fixedLength.Collate(Examples).SequenceLength);
        var tooShort = new DataCollatorWithPadding(0) { Padding = PaddingStrategy.MaxLength, MaxLength = 4 };
        Assert.Contains("5 tokens, more than MaxLength 4", Assert.Throws<ArgumentException>(() => tooShort.Collate(Examples)).Message);
        var noPad = new DataCollatorWithPadding(0) { Padding = PaddingStrategy.DoNotPad };
        Assert.Throws<ArgumentException>(() => noPad.Collate(Examples));
        var mixed = new[] { Examples[0], Examples[1] with { TokenTypeIds = null } };
        Assert.Throws<ArgumentException>(() => new DataCollatorWithPadding(0).Collate(mixed));
        var badMask = new[] { new TokenizedExample { InputIds = [1, 2], AttentionMask = [1] } };
        Assert.Contains("attention_mask has 1 entries", Assert.Throws<ArgumentException>(() => new DataCollatorWithPadding(0).Collate(badMask)).Message);
    }

    [Fact]
    public void CollatesDatasetRowsWithLabelColumnVariants()
    {
        var ds = Dataset.FromDict(new Dictionary<string, IList>
        {
            ["text"] = new[] { "a", "b c", "d" },
            ["input_ids"] = new[] { new[] { 5 }, new[] { 6, 7 }, new[] { 8 } },
            ["attention_mask"] = new[] { new[] { 1 }, new[] { 1, 1 }, new[] { 1 } },
            ["label"] = new[] { 0.5f, 1.5f, 2.5f },
        });
        var batch = new DataCollatorWithPadding(0).Collate(ds, [2, 1]);
        Assert.Equal([8, 0, 6, 7], batch.InputIds);
        Assert.Equal([1, 0, 1, 1], batch.AttentionMask);
        Assert.Equal([2.5f, 1.5f], batch.FloatLabels!);
        Assert.Null(batch.Labels);
        Assert.Null(batch.TokenTypeIds!);

        var untokenized = ds.RemoveColumns("input_ids");
        var e = Assert.Throws<InvalidOperationException>(() => new DataCollatorWithPadding(0).Collate(untokenized, [0]));
        Assert.Contains("tokenize it first", e.Message);
    }

    [Fact]
    public void SamplersAreDeterministicPerSeedAndEpoch()
    {
        Assert.Equal([0, 1, 2, 3], new SequentialSampler(4).Indices(epoch: 3));
        var sampler = new RandomSampler(100, seed: 42);
        Assert.Equal(sampler.Indices(0), new RandomSampler(100, seed: 42).Indices(0));
        Assert.NotEqual(sampler.Indices(0), sampler.Indices(1));
        Assert.NotEqual(sampler.Indices(0), new RandomSampler(100, seed: 43).Indices(0));
        Assert.Equal(Enumerable.Range(0, 100), sampler.Indices(1).Order());
    }

    [Fact]
    public void LengthGroupedSamplerFollowsHuggingFaceMegabatches()
    {
        var random = new Sharpformers.Utils.SeededRandom(7);
        var lengths = Enumerable.Range(0, 200).Select(_ => 1 + random.NextInt(300)).ToArray();
        var sampler = new LengthGroupedSampler(lengths, batchSize: 8, seed: 1);
        // min(200 / 32, 50) = 6 → megabatches of 48.
        Assert.Equal(6, sampler.MegaBatchMult);
        var order = sampler.Indices(0);
        Assert.Equal(Enumerable.Range(0, 200), order.Order());
        Assert.Equal(lengths.Max(), lengths[order[0]]);
        for (int start = 0; start < order.Length; start += 48)
        {
            // Each megabatch is sorted longest first (apart from the swapped first element).
            var megabatch = order.Skip(start).Take(48).Skip(1).Select(i => lengths[i]).ToArray();
            Assert.Equal(megabatch.OrderDescending(), megabatch);
        }
        Assert.Equal(order, new LengthGroupedSampler(lengths, 8, seed: 1).Indices(0));
        Assert.Equal(1, new LengthGroupedSampler([3, 1, 2], 8, seed: 1).MegaBatchMult);
    }

    [Fact]
    public void DataLoaderCountsAndSkipsBatches()
    {
        var ds = Dataset.FromDict(new Dictionary<string, IList>
        {
            ["input_ids"] = Enumerable.Range(0, 10).Select(i => new[] { 100 + i }).ToArray(),
            ["label"] = Enumerable.Range(0, 10).Select(i => i % 2).ToArray(),
        });
        var loader = new DataLoader(ds, batchSize: 4, new SequentialSampler(10), new DataCollatorWithPadding(0));
        Assert.Equal(3, loader.Count);
        Assert.Equal(new[] { 2, 4, 4 }, loader.Batches(0).Select(b => b.BatchSize).Order());
        Assert.Equal([108, 109], loader.Batches(0, skipBatches: 2).Single().InputIds);
        var dropping = new DataLoader(ds, 4, new RandomSampler(10, 3), new DataCollatorWithPadding(0), dropLast: true);
        Assert.Equal(2, dropping.Count);
        Assert.Equal(dropping.BatchIndices(1).SelectMany(b => b), dropping.Sampler.Indices(1).Take(8));
        Assert.Throws<ArgumentException>(() => new DataLoader(ds, 4, new SequentialSampler(9), new DataCollatorWithPadding(0)));
    }
}
