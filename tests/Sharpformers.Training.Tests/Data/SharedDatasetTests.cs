using Sharpformers.TestSupport;
using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

/// <summary>The real datasets in ../shared (dataset tier: SHARPFORMERS_DATASET_TESTS=1).</summary>
public sealed class SharedDatasetTests
{
    private static string Shared(params string[] parts) => Path.Combine([Fixtures.SharedDir!, "datasets", .. parts]);

    [DatasetFact]
    public void Sst2CountsAndLabels()
    {
        var train = DataSource.Load(Shared("sst2", "train.tsv"));
        var dev = DataSource.Load(Shared("sst2"), split: "validation");
        var test = DataSource.Load(Shared("sst2"), split: "test");
        Assert.Equal(67_349, train.NumRows);
        Assert.Equal(872, dev.NumRows);
        Assert.Equal(1_821, test.NumRows);
        Assert.Equal(["text", "label"], train.ColumnNames);
        Assert.Equal(["text"], test.ColumnNames);
        Assert.Equal("hide new secretions from the parental units ", train[0].Get<string>("text"));
        Assert.Equal(0, train[0].Get<int>("label"));
        Assert.Equal("it 's a charming and often affecting journey . ", dev[0].Get<string>("text"));
        // SST-2 train is 55.8% positive (37,569 of 67,349).
        Assert.Equal(37_569, train.Column<int>("label").Count(l => l == 1));
        Assert.Equal(444, dev.Column<int>("label").Count(l => l == 1));
    }

    [DatasetFact]
    public void ImdbTarballSplitsAreBalanced()
    {
        var imdb = AclImdb.Load(Shared("imdb", "aclImdb_v1.tar.gz"));
        foreach (var split in new[] { "train", "test" })
        {
            var ds = imdb[split];
            Assert.Equal(25_000, ds.NumRows);
            Assert.Equal(12_500, ds.Column<int>("label").Count(l => l == 0));
            Assert.Equal(12_500, ds.Column<int>("label").Count(l => l == 1));
            Assert.All(ds.Column<int>("label").Take(12_500), l => Assert.Equal(0, l));
        }
        // HF imdb's first train review is train/neg/0_3.txt.
        Assert.StartsWith("Story of a man who has unnatural feelings for a pig.", imdb["train"][0].Get<string>("text"));
    }

    [DatasetFact]
    public void ChnSentiCorpCounts()
    {
        var train = DataSource.Load(Shared("chnsenticorp"), split: "train");
        var dev = DataSource.Load(Shared("chnsenticorp"), split: "dev");
        var test = DataSource.Load(Shared("chnsenticorp"), split: "test");
        Assert.Equal(9_600, train.NumRows);
        Assert.Equal(1_200, dev.NumRows);
        Assert.Equal(1_200, test.NumRows);
        Assert.Equal(["text", "label"], train.ColumnNames);
        Assert.StartsWith("选择珠江花园的原因就是方便", train[0].Get<string>("text"));
    }
}

/// <summary>The whole data path over a real split (dataset tier).</summary>
public sealed class SharedDataPathTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [DatasetFact]
    public void Sst2TrainTokenizesAndBatchesAtScale()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var train = DataSource.Load(Path.Combine(Fixtures.SharedDir!, "datasets", "sst2", "train.tsv"));
        var loaded = clock.Elapsed;
        var tokenizer = Sharpformers.Tokenizers.AutoTokenizer.FromPretrained(Fixtures.Vocab("bert-base-uncased"));
        var tokenized = train.Map(batch => tokenizer.Call(batch.Column<string>("text"), truncation: true, maxLength: 128), batched: true, removeColumns: ["text"]);
        var tokenizedAt = clock.Elapsed;
        Assert.Equal(67_349, tokenized.NumRows);
        var args = new Sharpformers.Training.TrainingArguments { OutputDir = "unused", PerDeviceTrainBatchSize = 32, GroupByLength = true };
        var loader = new DataLoader(tokenized, 32, Sharpformers.Training.TrainingPlan.TrainSampler(args, tokenized), new DataCollatorWithPadding(tokenizer));
        long padded = 0;
        long real = 0;
        int batches = 0;
        foreach (var batch in loader.Batches(epoch: 0))
        {
            padded += batch.InputIds.Length;
            real += batch.CountRealTokens();
            batches++;
        }
        Assert.Equal(2_105, batches);
        Assert.Equal(tokenized.Column<int[]>("input_ids").Sum(ids => (long)ids.Length), real);
        output.WriteLine($"load {loaded.TotalSeconds:F2}s, tokenize {(tokenizedAt - loaded).TotalSeconds:F2}s, batch {(clock.Elapsed - tokenizedAt).TotalSeconds:F2}s; " +
            $"padding overhead with group_by_length {(double)padded / real - 1:P1} (timings noisy: shared machine)");
    }
}
