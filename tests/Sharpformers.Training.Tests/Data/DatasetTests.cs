using System.Collections;
using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

public sealed class DatasetTests
{
    private static Dataset Sample(int rows = 10) => Dataset.FromDict(
        new Dictionary<string, IList>
        {
            ["text"] = Enumerable.Range(0, rows).Select(i => $"text {i}").ToArray(),
            ["label"] = Enumerable.Range(0, rows).Select(i => i % 2).ToArray(),
        },
        new Dictionary<string, FeatureType> { ["label"] = new ClassLabel(["neg", "pos"]) });

    [Fact]
    public void FromDictKeepsOrderTypesAndFeatures()
    {
        var ds = Sample();
        Assert.Equal(["text", "label"], ds.ColumnNames);
        Assert.Equal((10, 2), ds.Shape);
        Assert.Equal(new Value("string"), ds.Features["text"]);
        Assert.Equal(new ClassLabel(["neg", "pos"]), ds.Features["label"]);
        Assert.Equal("text 3", ds[3].Get<string>("text"));
        Assert.Equal(1, ds[3]["label"]);
        Assert.Equal([0, 1, 0], ds.Column<int>("label").Take(3));
    }

    [Fact]
    public void ClassLabelConvertsNamesAndIdsAndRejectsUnknowns()
    {
        var label = new ClassLabel(["neg", "pos"]);
        Assert.Equal(1, label.Str2Int("pos"));
        Assert.Equal("neg", label.Int2Str(0));
        Assert.Equal(2, label.NumClasses);
        var e = Assert.Throws<ArgumentException>(() => label.Str2Int("positive"));
        Assert.Contains("[neg, pos]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => label.Int2Str(2));
        Assert.Equal(["0", "1", "2"], ClassLabel.FromNumClasses(3).Names);
        Assert.Throws<ArgumentException>(() => new ClassLabel(["a", "a"]));
    }

    [Fact]
    public void ClassLabelColumnRejectsOutOfRangeIds()
    {
        var e = Assert.Throws<ArgumentException>(() => Dataset.FromDict(
            new Dictionary<string, IList> { ["label"] = new[] { 0, 1, 2 } },
            new Dictionary<string, FeatureType> { ["label"] = new ClassLabel(["neg", "pos"]) }));
        Assert.Contains("row 2", e.Message);
        Assert.Contains("label 2", e.Message);
    }

    [Fact]
    public void MismatchedColumnLengthsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Dataset.FromDict(new Dictionary<string, IList>
        {
            ["a"] = new[] { 1, 2, 3 },
            ["b"] = new[] { "x" },
        }));
        Assert.Contains("'b' has 1 rows", e.Message);
    }

    [Fact]
    public void UnknownColumnListsTheColumns()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Sample()["sentence"]);
        Assert.Contains("[text, label]", e.Message);
    }

    [Fact]
    public void SelectFilterAndColumnOperations()
    {
        var ds = Sample();
        var selected = ds.Select([7, 2, 2]);
        Assert.Equal(["text 7", "text 2", "text 2"], selected.Column<string>("text"));
        Assert.Equal(new ClassLabel(["neg", "pos"]), selected.Features["label"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Select([10]));

        var positives = ds.Filter(row => row.Get<int>("label") == 1);
        Assert.Equal(5, positives.NumRows);
        Assert.All(positives.Column<int>("label"), l => Assert.Equal(1, l));

        var renamed = ds.RenameColumn("label", "labels");
        Assert.Equal(["text", "labels"], renamed.ColumnNames);
        Assert.Throws<ArgumentException>(() => ds.RenameColumn("label", "text"));
        Assert.Equal(["label"], ds.RemoveColumns("text").ColumnNames);
        Assert.Throws<KeyNotFoundException>(() => ds.RemoveColumns("nope"));
        Assert.Equal(["label", "text"], ds.SelectColumns("label", "text").ColumnNames);
    }

    [Fact]
    public void ShuffleIsAPermutationDeterminedBySeed()
    {
        var ds = Sample(50);
        var a = ds.Shuffle(seed: 42).Column<string>("text").ToArray();
        var b = ds.Shuffle(seed: 42).Column<string>("text").ToArray();
        var c = ds.Shuffle(seed: 43).Column<string>("text").ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(ds.Column<string>("text").ToArray(), a);
        Assert.Equal(ds.Column<string>("text").Order(), a.Order());
    }

    [Fact]
    public void TrainTestSplitFollowsHuggingFaceSizes()
    {
        var ds = Sample(10);
        var split = ds.TrainTestSplit(testSize: 0.25, seed: 1);
        // HF: n_test = ceil(0.25 * 10) = 3, n_train = 10 - 3.
        Assert.Equal(3, split["test"].NumRows);
        Assert.Equal(7, split["train"].NumRows);
        var all = split["train"].Column<string>("text").Concat(split["test"].Column<string>("text")).Order();
        Assert.Equal(ds.Column<string>("text").Order(), all);
        Assert.Equal(split["test"].Column<string>("text"), ds.TrainTestSplit(testSize: 0.25, seed: 1)["test"].Column<string>("text"));

        var counts = ds.TrainTestSplit(testSize: 2, trainSize: 5, seed: 3);
        Assert.Equal((5, 2), (counts["train"].NumRows, counts["test"].NumRows));

        var ordered = ds.TrainTestSplit(testSize: 0.2, shuffle: false);
        Assert.Equal(["text 8", "text 9"], ordered["test"].Column<string>("text"));

        // floor(0.05 * 10) = 0 train rows.
        Assert.Throws<ArgumentException>(() => ds.TrainTestSplit(trainSize: 0.05));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.TrainTestSplit(testSize: 10));
    }

    [Fact]
    public void BatchedMapAddsColumnsAndKeepsFeatures()
    {
        var ds = Sample(25);
        var batchSizes = new List<int>();
        var mapped = ds.Map(batch =>
        {
            batchSizes.Add(batch.NumRows);
            var texts = batch.Column<string>("text");
            return new Dictionary<string, IList>
            {
                ["input_ids"] = texts.Select(t => t.Split(' ').Select(w => w.Length).ToArray()).ToArray(),
                ["length"] = texts.Select(t => t.Length).ToArray(),
            };
        }, batched: true, batchSize: 10);
        Assert.Equal([10, 10, 5], batchSizes);
        Assert.Equal(["text", "label", "input_ids", "length"], mapped.ColumnNames);
        Assert.Equal(new Sequence(new Value("int32")), mapped.Features["input_ids"]);
        Assert.Equal(new ClassLabel(["neg", "pos"]), mapped.Features["label"]);
        Assert.Equal([4, 2], mapped[12].Get<int[]>("input_ids"));
        Assert.Equal(7, mapped[12].Get<int>("length"));
    }

    [Fact]
    public void BatchedMapMayChangeRowCountOnlyWhenInputColumnsAreRemoved()
    {
        var ds = Sample(4);
        Func<DatasetBatch, IReadOnlyDictionary<string, IList>> duplicate = batch => new Dictionary<string, IList>
        {
            ["text"] = batch.Column<string>("text").SelectMany(t => new[] { t, t + "!" }).ToArray(),
        };
        var e = Assert.Throws<InvalidOperationException>(() => ds.Map(duplicate, batched: true));
        Assert.Contains("remove the input columns", e.Message);
        var doubled = ds.Map(duplicate, batched: true, removeColumns: ds.ColumnNames);
        Assert.Equal(8, doubled.NumRows);
        Assert.Equal(["text 0", "text 0!"], doubled.Column<string>("text").Take(2));
    }

    [Fact]
    public void RowMapReplacesColumnsAndRemovesRequested()
    {
        var ds = Sample(3);
        var mapped = ds.Map(row => new Dictionary<string, object?> { ["text"] = row.Get<string>("text").ToUpperInvariant(), ["n"] = (long)row.Index },
            removeColumns: ["label"]);
        Assert.Equal(["text", "n"], mapped.ColumnNames);
        Assert.Equal("TEXT 2", mapped[2].Get<string>("text"));
        Assert.Equal(new Value("int64"), mapped.Features["n"]);
    }

    [Fact]
    public void MapRejectsInconsistentColumnTypes()
    {
        var ds = Sample(4);
        var e = Assert.Throws<InvalidOperationException>(() => ds.Map(
            batch => new Dictionary<string, IList> { ["x"] = batch.Start == 0 ? new[] { 1, 2 } : new[] { "a", "b" } },
            batched: true, batchSize: 2));
        Assert.Contains("'x' was Int32", e.Message);
    }

    [Fact]
    public void UntypedListsAreWidenedOrRejected()
    {
        var ds = Dataset.FromList([
            new Dictionary<string, object?> { ["a"] = 1, ["b"] = 1.5, ["ids"] = new List<int> { 1, 2 } },
            new Dictionary<string, object?> { ["a"] = 3L, ["b"] = 2, ["ids"] = new[] { 3 } },
        ]);
        Assert.Equal(typeof(long), ds["a"].ElementType);
        Assert.Equal(typeof(double), ds["b"].ElementType);
        Assert.Equal(typeof(int[]), ds["ids"].ElementType);
        var e = Assert.Throws<ArgumentException>(() => Dataset.FromList([
            new Dictionary<string, object?> { ["a"] = 1 },
            new Dictionary<string, object?> { ["a"] = "x" },
        ]));
        Assert.Contains("row 1", e.Message);
    }

    [Fact]
    public void CastAndClassEncode()
    {
        var ds = Dataset.FromDict(new Dictionary<string, IList> { ["label"] = new[] { "pos", "neg", "pos" } });
        var encoded = ds.ClassEncodeColumn("label");
        Assert.Equal(new ClassLabel(["neg", "pos"]), encoded.Features["label"]);
        Assert.Equal([1, 0, 1], encoded.Column<int>("label"));
        var cast = ds.CastColumn("label", new ClassLabel(["pos", "neg"]));
        Assert.Equal([0, 1, 0], cast.Column<int>("label"));
        var e = Assert.Throws<ArgumentException>(() => ds.CastColumn("label", new ClassLabel(["a", "b"])));
        Assert.Contains("'pos' is not one of", e.Message);
    }

    [Fact]
    public void DatasetDictAppliesToEverySplit()
    {
        var dict = new DatasetDict(new Dictionary<string, Dataset> { ["train"] = Sample(6), ["test"] = Sample(4) });
        var renamed = dict.RenameColumn("label", "labels").RemoveColumns("text");
        Assert.Equal(["labels"], renamed["train"].ColumnNames);
        Assert.Equal(["labels"], renamed["test"].ColumnNames);
        Assert.Equal(6, renamed.NumRows["train"]);
        var e = Assert.Throws<KeyNotFoundException>(() => dict["validation"]);
        Assert.Contains("[train, test]", e.Message);
    }
}
