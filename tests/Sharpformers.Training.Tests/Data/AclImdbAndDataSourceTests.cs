using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

public sealed class AclImdbAndDataSourceTests
{
    // (split, polarity, file name, text): deliberately not in the expected order.
    private static readonly (string Split, string Polarity, string Name, string Text)[] Reviews =
    [
        ("train", "pos", "3_10.txt", "Loved it.<br /><br />Again!"),
        ("train", "neg", "10000_4.txt", "Meh, ça ne va pas."),
        ("train", "pos", "1000_8.txt", "Great."),
        ("train", "neg", "0_3.txt", "Terrible."),
        ("test", "neg", "5_1.txt", "Awful."),
        ("test", "pos", "7_9.txt", "Wonderful."),
    ];

    private static string WriteTarball(TempDirectory dir, bool extraFiles = true)
    {
        string path = dir.Combine("aclImdb_v1.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "aclImdb/"));
        foreach (var (split, polarity, name, text) in Reviews)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"aclImdb/{split}/{polarity}/{name}")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
            };
            tar.WriteEntry(entry);
        }
        if (extraFiles)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "aclImdb/train/urls_pos.txt") { DataStream = new MemoryStream("http://x"u8.ToArray()) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "aclImdb/train/unsup/0_0.txt") { DataStream = new MemoryStream("unlabelled"u8.ToArray()) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "aclImdb/train/labeledBow.feat") { DataStream = new MemoryStream("0 0:1"u8.ToArray()) });
        }
        return path;
    }

    private static string WriteFolder(TempDirectory dir)
    {
        foreach (var (split, polarity, name, text) in Reviews)
        {
            dir.File(Path.Combine("aclImdb", split, polarity, name), text);
        }
        dir.File(Path.Combine("aclImdb", "train", "urls_pos.txt"), "http://x");
        return dir.Path;
    }

    [Fact]
    public void TarballIsReadInTheDocumentedOrder()
    {
        using var dir = new TempDirectory();
        var train = AclImdb.Load(WriteTarball(dir), "train");
        Assert.Equal(["text", "label"], train.ColumnNames);
        Assert.Equal(new ClassLabel(["neg", "pos"]), train.Features["label"]);
        // neg before pos; ordinal file names within each: 0_3 < 10000_4, 1000_8 < 3_10.
        Assert.Equal(["Terrible.", "Meh, ça ne va pas.", "Great.", "Loved it.<br /><br />Again!"], train.Column<string>("text"));
        Assert.Equal([0, 0, 1, 1], train.Column<int>("label"));
    }

    [Fact]
    public void FolderAndTarballGiveTheSameDatasets()
    {
        using var tarDir = new TempDirectory();
        using var folderDir = new TempDirectory();
        var fromTar = AclImdb.Load(WriteTarball(tarDir));
        var fromFolder = AclImdb.Load(WriteFolder(folderDir));
        foreach (var split in new[] { "train", "test" })
        {
            Assert.Equal(fromTar[split].Column<string>("text"), fromFolder[split].Column<string>("text"));
            Assert.Equal(fromTar[split].Column<int>("label"), fromFolder[split].Column<int>("label"));
        }
        Assert.Equal(["Awful.", "Wonderful."], fromFolder["test"].Column<string>("text"));
        // The aclImdb folder itself works as well as its parent.
        Assert.Equal(4, AclImdb.Load(Path.Combine(folderDir.Path, "aclImdb"), "train").NumRows);
    }

    [Fact]
    public void BadTarballsAndNamesAreReported()
    {
        using var dir = new TempDirectory();
        string notGzip = dir.File("broken.tar.gz", "this is not gzip");
        var e = Assert.Throws<InvalidDataException>(() => AclImdb.Load(notGzip, "train"));
        Assert.Contains("not a readable aclImdb tarball", e.Message);
        Assert.Throws<ArgumentException>(() => AclImdb.Load(WriteTarball(dir), "validation"));

        using var bad = new TempDirectory();
        bad.File(Path.Combine("aclImdb", "train", "pos", "review.txt"), "x");
        bad.File(Path.Combine("aclImdb", "train", "neg", "1_1.txt"), "x");
        var e2 = Assert.Throws<InvalidDataException>(() => AclImdb.Load(bad.Path, "train"));
        Assert.Contains("expected a review file named <id>_<rating>.txt", e2.Message);
    }

    [Fact]
    public void DataSourceNormalisesColumnsForSst2StyleFiles()
    {
        using var dir = new TempDirectory();
        dir.File("train.tsv", "sentence\tlabel\ngood \t1\nbad \t0\n");
        dir.File("dev.tsv", "sentence\tlabel\nfine \t1\n");
        dir.File("test.tsv", "index\tsentence\n0\tunknown\n");

        var train = DataSource.Load(dir.Combine("train.tsv"));
        Assert.Equal(["text", "label"], train.ColumnNames);
        Assert.Equal(["good ", "bad "], train.Column<string>("text"));
        Assert.Equal(ClassLabel.FromNumClasses(2), train.Features["label"]);

        var validation = DataSource.Load(dir.Path, split: "validation", labels: ["negative", "positive"]);
        Assert.Equal(new ClassLabel(["negative", "positive"]), validation.Features["label"]);
        Assert.Equal(1, validation.NumRows);

        var test = DataSource.Load(dir.Path, split: "test");
        Assert.Equal(["text"], test.ColumnNames);

        Assert.Equal(["dev", "test", "train"], DataSource.AvailableSplits(dir.Path));
        var noSplit = Assert.Throws<ArgumentException>(() => DataSource.Load(dir.Path));
        Assert.Contains("[dev, test, train]", noSplit.Message);
        var missing = Assert.Throws<InvalidDataException>(() => DataSource.Load(dir.Combine("test.tsv"), labelColumn: "label"));
        Assert.Equal("test.tsv: no label column 'label'; the columns are [index, sentence].", missing.Message);
    }

    [Fact]
    public void DataSourceReadsChnSentiCorpStyleAndPairs()
    {
        using var dir = new TempDirectory();
        string chn = dir.File("dev.tsv", "qid\tlabel\ttext_a\n0\t1\t不错\n1\t0\t\"很差\n");
        var ds = DataSource.Load(chn);
        Assert.Equal(["text", "label"], ds.ColumnNames);
        Assert.Equal(["不错", "\"很差"], ds.Column<string>("text"));

        string pairs = dir.File("mrpc.jsonl", "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"label\": 1, \"idx\": 0}\n");
        var pairData = DataSource.Load(pairs);
        Assert.Equal(["text", "text_pair", "label"], pairData.ColumnNames);

        string custom = dir.File("custom.csv", "review,stars,sentiment\nnice,5,good\n");
        var e = Assert.Throws<InvalidDataException>(() => DataSource.Load(custom, textColumn: "body"));
        Assert.Equal("custom.csv: no text column 'body'; the columns are [review, stars, sentiment].", e.Message);
        var customData = DataSource.Load(custom, labelColumn: "sentiment", labels: ["bad", "good"]);
        Assert.Equal(["nice"], customData.Column<string>("text"));
        Assert.Equal([1], customData.Column<int>("label"));
    }

    [Fact]
    public void DataSourceReadsAclImdbWithSplit()
    {
        using var dir = new TempDirectory();
        string tarball = WriteTarball(dir);
        var test = DataSource.Load(tarball, split: "test", labels: ["NEGATIVE", "POSITIVE"]);
        Assert.Equal(2, test.NumRows);
        Assert.Equal(new ClassLabel(["NEGATIVE", "POSITIVE"]), test.Features["label"]);
        var e = Assert.Throws<ArgumentException>(() => DataSource.Load(tarball));
        Assert.Contains("--split train|test", e.Message);
        Assert.Equal(["train", "test"], DataSource.AvailableSplits(tarball));
    }
}
