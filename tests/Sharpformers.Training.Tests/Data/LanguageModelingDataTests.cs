using System.Collections;
using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Training.Data;
using Sharpformers.Utils;

namespace Sharpformers.Training.Tests.Data;

/// <summary>
/// DataCollatorForLanguageModeling (HF's 80/10/10 rule, special tokens and padding never picked,
/// seeded draws), run_mlm's tokenize + group_texts, and concatenate_datasets.
/// </summary>
public sealed class LanguageModelingDataTests
{
    private static PreTrainedTokenizer BertTokenizer() => AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"));

    private static Dataset Texts(params string[] texts) =>
        Dataset.FromDict(new Dictionary<string, IList> { ["text"] = texts });

    [Fact]
    public void MasksFifteenPercentWithTheEightyTenTenRuleAndNeverSpecialTokens()
    {
        var tokenizer = BertTokenizer();
        var collator = new DataCollatorForLanguageModeling(tokenizer);
        Assert.Equal(103, collator.MaskTokenId);
        Assert.Equal(30522, collator.VocabSize);
        var rng = new Random(1);
        const int n = 200_000;
        var ids = Enumerable.Range(0, n).Select(i => i % 50 == 0 ? 101 : i % 50 == 49 ? 102 : 1000 + rng.Next(29000)).ToArray();
        var special = ids.Select(id => id is 101 or 102 ? 1 : 0).ToArray();
        var original = (int[])ids.Clone();
        var labels = collator.MaskTokens(ids, special, new SeededRandom(7));

        int picked = 0, masked = 0, replaced = 0, kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (special[i] == 1)
            {
                Assert.Equal(-100, labels[i]);
                Assert.Equal(original[i], ids[i]);
                continue;
            }
            if (labels[i] == -100)
            {
                Assert.Equal(original[i], ids[i]);                                   // unpicked tokens are never changed
                continue;
            }
            picked++;
            Assert.Equal(original[i], labels[i]);                                    // the label is the original token
            if (ids[i] == 103) masked++;
            else if (ids[i] == original[i]) kept++;
            else replaced++;
        }
        int candidates = special.Count(s => s == 0);
        Assert.InRange(picked / (double)candidates, 0.145, 0.155);
        Assert.InRange(masked / (double)picked, 0.79, 0.81);
        Assert.InRange(replaced / (double)picked, 0.093, 0.107);                     // a random id can equal the original (≈1/30522): counted as kept
        Assert.InRange(kept / (double)picked, 0.093, 0.107);
    }

    [Fact]
    public void SameGeneratorStateGivesTheSameMasksAndPaddingIsNeverPicked()
    {
        var tokenizer = BertTokenizer();
        var tokenized = LanguageModelingData.Tokenize(Texts("a short one", "this sentence is quite a bit longer than the first one is"), tokenizer);
        Assert.Equal(["input_ids", "attention_mask", "special_tokens_mask"], tokenized.ColumnNames);
        var collator = new DataCollatorForLanguageModeling(tokenizer, mlmProbability: 0.5);
        var random = new SeededRandom(3);
        var state = random.SaveState();
        var first = collator.Collate(tokenized, [0, 1], random);
        var again = collator.Collate(tokenized, [0, 1], SeededRandom.FromState(state));
        var other = collator.Collate(tokenized, [0, 1], random);                     // the generator moved on
        Assert.Equal(first.InputIds, again.InputIds);
        Assert.Equal(first.Labels, again.Labels);
        Assert.NotEqual(first.Labels, other.Labels);
        Assert.Null(first.SpecialTokensMask);                                        // popped, as HF does
        Assert.Equal(first.BatchSize * first.SequenceLength, first.Labels!.Length);
        for (int i = 0; i < first.InputIds.Length; i++)
        {
            if (first.AttentionMask[i] == 0)
            {
                Assert.Equal(0, first.InputIds[i]);
                Assert.Equal(-100, first.Labels[i]);
            }
        }
        // Row 0 = [CLS] a short one [SEP]: positions 0 and 4 are special.
        Assert.Equal(-100, first.Labels[0]);
        Assert.Equal(-100, first.Labels[4]);
        Assert.Contains(first.Labels, l => l != -100);

        // Without a special_tokens_mask column the tokenizer's special ids are excluded instead.
        var withoutMask = tokenized.RemoveColumns("special_tokens_mask");
        var batch = collator.Collate(withoutMask, [0], new SeededRandom(5));
        Assert.Equal(-100, batch.Labels![0]);
        Assert.Equal(-100, batch.Labels[4]);
        var e = Assert.Throws<ArgumentNullException>(() => ((IDataCollator)collator).Collate(tokenized, [0], null));
        Assert.Contains("generator", e.Message);
    }

    [Fact]
    public void TokenizerWithoutAMaskTokenIsRejected()
    {
        var gpt2 = AutoTokenizer.FromPretrained(Fixtures.Vocab("gpt2"));
        Assert.Null(gpt2.MaskTokenId);
        var e = Assert.Throws<ArgumentException>(() => new DataCollatorForLanguageModeling(gpt2));
        Assert.Contains("does not have a mask token", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataCollatorForLanguageModeling(BertTokenizer(), mlmProbability: 1));
    }

    [Fact]
    public void GroupTextsConcatenatesAndCutsBlocksDroppingEachBatchsRemainder()
    {
        var tokenized = Dataset.FromDict(new Dictionary<string, IList>
        {
            ["input_ids"] = new[] { new[] { 1, 2, 3 }, new[] { 4, 5 }, new[] { 6, 7, 8, 9 }, new[] { 10 }, new[] { 11, 12, 13 } },
            ["special_tokens_mask"] = new[] { new[] { 1, 0, 1 }, new[] { 1, 1 }, new[] { 1, 0, 0, 1 }, new[] { 0 }, new[] { 1, 0, 1 } },
        });
        // One map batch: 13 tokens → three blocks of 4 (13th dropped).
        var grouped = LanguageModelingData.GroupTexts(tokenized, blockSize: 4);
        Assert.Equal(3, grouped.NumRows);
        Assert.Equal(new[] { new[] { 1, 2, 3, 4 }, [5, 6, 7, 8], [9, 10, 11, 12] }, grouped.Column<int[]>("input_ids"));
        Assert.Equal(new[] { new[] { 1, 0, 1, 1 }, [1, 1, 0, 0], [1, 0, 1, 0] }, grouped.Column<int[]>("special_tokens_mask"));
        // Map batches of 2 examples (HF's batch_size): [1..5] → 1 block, [6..10] → 1 block, [11..13] → none.
        var byTwo = LanguageModelingData.GroupTexts(tokenized, blockSize: 4, batchSize: 2);
        Assert.Equal(new[] { new[] { 1, 2, 3, 4 }, [6, 7, 8, 9] }, byTwo.Column<int[]>("input_ids"));
    }

    [Fact]
    public void TokenizeLineByLineTruncatesAndDropsEmptyTexts()
    {
        var tokenizer = BertTokenizer();
        var tokenized = LanguageModelingData.Tokenize(Texts("one two three four five six", "   ", "seven"), tokenizer, maxLength: 4);
        Assert.Equal(2, tokenized.NumRows);
        Assert.Equal(new[] { 101, 2028, 2048, 102 }, tokenized.Column<int[]>("input_ids")[0]);
        Assert.Equal(new[] { 1, 0, 0, 1 }, tokenized.Column<int[]>("special_tokens_mask")[0]);
        var untruncated = LanguageModelingData.Tokenize(Texts("one two three four five six"), tokenizer);
        Assert.Equal(8, untruncated.Column<int[]>("input_ids")[0].Length);
    }

    [Fact]
    public void ConcatenateDatasetsKeepsOrderAndRequiresTheSameFeatures()
    {
        var labels = new ClassLabel(["neg", "pos"]);
        var a = Dataset.FromDict(new Dictionary<string, IList> { ["text"] = new[] { "a", "b" }, ["label"] = new[] { 0, 1 } },
            new Dictionary<string, FeatureType> { ["label"] = labels });
        var b = Dataset.FromDict(new Dictionary<string, IList> { ["label"] = new[] { 1 }, ["text"] = new[] { "c" } },
            new Dictionary<string, FeatureType> { ["label"] = labels });
        var both = Dataset.ConcatenateDatasets([a, b]);
        Assert.Equal(3, both.NumRows);
        Assert.Equal(["text", "label"], both.ColumnNames);
        Assert.Equal(["a", "b", "c"], both.Column<string>("text"));
        Assert.Equal([0, 1, 1], both.Column<int>("label"));
        Assert.Equal(labels, both.Features["label"]);

        var otherNames = Dataset.FromDict(new Dictionary<string, IList> { ["text"] = new[] { "d" }, ["label"] = new[] { 0 } },
            new Dictionary<string, FeatureType> { ["label"] = new ClassLabel(["0", "1"]) });
        var e = Assert.Throws<ArgumentException>(() => Dataset.ConcatenateDatasets([a, otherNames]));
        Assert.Contains("column 'label'", e.Message);
        var otherColumns = Dataset.FromDict(new Dictionary<string, IList> { ["sentence"] = new[] { "d" }, ["label"] = new[] { 0 } });
        Assert.Contains("columns", Assert.Throws<ArgumentException>(() => Dataset.ConcatenateDatasets([a, otherColumns])).Message);
    }
}
