using Sharpformers.Training.Data;

namespace Sharpformers.Training.Tests.Data;

public sealed class DataFilesTests
{
    [Fact]
    public void TsvIsReadWithoutQuotingLikeGlue()
    {
        using var dir = new TempDirectory();
        // SST-2 style: trailing space kept; a leading quote is an ordinary character in TSV.
        string path = dir.File("train.tsv", "sentence\tlabel\nit 's a charming journey . \t1\n\"quoted start and no end\t0\n\r\n");
        var ds = DataFiles.Read(path);
        Assert.Equal(["sentence", "label"], ds.ColumnNames);
        Assert.Equal(2, ds.NumRows);
        Assert.Equal("it 's a charming journey . ", ds[0].Get<string>("sentence"));
        Assert.Equal("\"quoted start and no end", ds[1].Get<string>("sentence"));
        Assert.Equal([1, 0], ds.Column<int>("label"));
    }

    [Fact]
    public void CsvFollowsRfc4180Quoting()
    {
        using var dir = new TempDirectory();
        string path = dir.File("data.csv",
            "\uFEFFtext,label\r\n\"hello, world\",pos\r\n\"she said \"\"hi\"\"\nand left\",neg\r\nplain \"inner\" quote,pos\r\n,neg\r\n");
        var ds = DataFiles.Read(path, new DataFileOptions { LabelColumn = "label" });
        Assert.Equal(4, ds.NumRows);
        Assert.Equal("hello, world", ds[0].Get<string>("text"));
        Assert.Equal("she said \"hi\"\nand left", ds[1].Get<string>("text"));
        Assert.Equal("plain \"inner\" quote", ds[2].Get<string>("text"));
        Assert.Equal("", ds[3].Get<string>("text"));
        // Text labels without names: sorted distinct values, as HF's class_encode_column.
        Assert.Equal(new ClassLabel(["neg", "pos"]), ds.Features["label"]);
        Assert.Equal([1, 0, 1, 0], ds.Column<int>("label"));
    }

    [Fact]
    public void WrongColumnCountNamesFileAndLine()
    {
        using var dir = new TempDirectory();
        var lines = new List<string> { "sentence\tlabel" };
        for (int i = 2; i < 17; i++) lines.Add($"sentence {i}\t{i % 2}");
        lines.Add("a\ttab inside\t1");
        string path = dir.File("train.tsv", string.Join("\n", lines) + "\n");
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path));
        Assert.StartsWith("train.tsv line 17: expected 2 columns, got 3", e.Message);
    }

    [Fact]
    public void UnclosedQuoteAndGarbageAfterQuoteAreReportedWithPosition()
    {
        using var dir = new TempDirectory();
        string unclosed = dir.File("a.csv", "text,label\nfine,1\n\"never closed,0\n");
        var e1 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(unclosed));
        Assert.Equal("a.csv line 3, column 1: the quoted field opened here is never closed.", e1.Message);
        string garbage = dir.File("b.csv", "text,label\n\"quoted\"x,1\n");
        var e2 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(garbage));
        Assert.StartsWith("b.csv line 2, column 9: unexpected 'x' after the closing quote", e2.Message);
    }

    [Fact]
    public void MissingLabelColumnListsTheColumns()
    {
        using var dir = new TempDirectory();
        string path = dir.File("test.tsv", "index\tsentence\n0\tfoo\n");
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path, new DataFileOptions { LabelColumn = "label" }));
        Assert.Equal("test.tsv: no label column 'label'; the columns are [index, sentence].", e.Message);
    }

    [Fact]
    public void LabelsOutsideTheNamesAreRejectedWithTheirLine()
    {
        using var dir = new TempDirectory();
        string path = dir.File("train.tsv", "label\ttext_a\n1\tgood\n0\tbad\n2\tweird\n");
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path, new DataFileOptions { LabelColumn = "label", LabelNames = ["neg", "pos"] }));
        Assert.Equal("train.tsv line 4: label 2 is outside the ClassLabel names [neg, pos] (ids 0..1).", e.Message);

        string named = dir.File("named.tsv", "label\ttext_a\npos\tgood\npositive\tbad\n");
        var e2 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(named, new DataFileOptions { LabelColumn = "label", LabelNames = ["neg", "pos"] }));
        Assert.Equal("named.tsv line 3: label 'positive' is not one of the ClassLabel names [neg, pos].", e2.Message);

        string empty = dir.File("empty.tsv", "label\ttext_a\n\tgood\n");
        var e3 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(empty, new DataFileOptions { LabelColumn = "label" }));
        Assert.Equal("empty.tsv line 2: the label ('label') is empty.", e3.Message);
    }

    [Fact]
    public void LabelsMayBeNamesOrIdsAndFloatsMakeRegression()
    {
        using var dir = new TempDirectory();
        string mixed = dir.File("mixed.tsv", "text\tlabel\na\tpos\nb\t0\n");
        var ds = DataFiles.Read(mixed, new DataFileOptions { LabelColumn = "label", LabelNames = ["neg", "pos"] });
        Assert.Equal([1, 0], ds.Column<int>("label"));

        string ids = dir.File("ids.tsv", "text\tlabel\na\t2\nb\t0\n");
        Assert.Equal(ClassLabel.FromNumClasses(3), DataFiles.Read(ids, new DataFileOptions { LabelColumn = "label" }).Features["label"]);

        string scores = dir.File("stsb.tsv", "text\tlabel\na\t3.8\nb\t1\n");
        var regression = DataFiles.Read(scores, new DataFileOptions { LabelColumn = "label" });
        Assert.Equal([3.8f, 1f], regression.Column<float>("label"));
        Assert.Equal(new Value("float32"), regression.Features["label"]);
    }

    [Fact]
    public void ColumnTypesAreInferredUnlessKeptAsText()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.tsv", "qid\ttext\tscore\n1\t42\t0.5\n2\t7\t1e3\n");
        var ds = DataFiles.Read(path);
        Assert.Equal(typeof(int), ds["qid"].ElementType);
        Assert.Equal(typeof(int), ds["text"].ElementType);
        Assert.Equal(typeof(double), ds["score"].ElementType);
        var kept = DataFiles.Read(path, new DataFileOptions { TextColumns = ["text"] });
        Assert.Equal(["42", "7"], kept.Column<string>("text"));
    }

    [Fact]
    public void InvalidUtf8NamesTheLine()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("bad.tsv");
        File.WriteAllBytes(path, [.. "text\tlabel\nok\t1\n"u8.ToArray(), 0xC3, 0x28, (byte)'\t', (byte)'1', (byte)'\n']);
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path));
        Assert.StartsWith("bad.tsv line 3: invalid UTF-8", e.Message);
    }

    [Fact]
    public void HeaderProblemsAreReported()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("dup.csv", "text,text\na,b\n")));
        Assert.Equal("dup.csv line 1: column name 'text' appears twice in the header.", e.Message);
        var empty = Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("empty.csv", "")));
        Assert.Contains("empty", empty.Message);
        Assert.Throws<FileNotFoundException>(() => DataFiles.Read(dir.Combine("missing.tsv")));
        Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("x.parquet", "")));
    }

    [Fact]
    public void HeaderlessFilesTakeGivenNames()
    {
        using var dir = new TempDirectory();
        string path = dir.File("raw.tsv", "good movie\t1\nbad movie\t0\n");
        var ds = DataFiles.Read(path, new DataFileOptions { HasHeader = false, ColumnNames = ["sentence", "label"], LabelColumn = "label" });
        Assert.Equal(2, ds.NumRows);
        Assert.Equal("good movie", ds[0].Get<string>("sentence"));
    }

    [Fact]
    public void JsonLinesKeepJsonTypes()
    {
        using var dir = new TempDirectory();
        string path = dir.File("d.jsonl",
            "{\"text\": \"great\", \"label\": \"pos\", \"ids\": [1, 2], \"w\": 0.5}\n\n{\"text\": \"awful\", \"label\": \"neg\", \"ids\": [3], \"w\": 1}\n");
        var ds = DataFiles.Read(path, new DataFileOptions { LabelColumn = "label", LabelNames = ["neg", "pos"] });
        Assert.Equal(["text", "label", "ids", "w"], ds.ColumnNames);
        Assert.Equal([1, 0], ds.Column<int>("label"));
        Assert.Equal([3], ds[1].Get<int[]>("ids"));
        Assert.Equal([0.5, 1.0], ds.Column<double>("w"));
    }

    [Fact]
    public void JsonErrorsNameTheLine()
    {
        using var dir = new TempDirectory();
        var e1 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("a.jsonl", "{\"text\": \"x\"}\n{\"text\": \n")));
        Assert.StartsWith("a.jsonl line 2: invalid JSON", e1.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("b.jsonl", "{\"text\": \"x\", \"label\": 1}\n{\"text\": \"y\"}\n")));
        Assert.Equal("b.jsonl line 2: key 'label' is missing (the first row has it).", e2.Message);
        var e3 = Assert.Throws<InvalidDataException>(() => DataFiles.Read(dir.File("c.jsonl", "[1, 2]\n")));
        Assert.Equal("c.jsonl element 1: expected a JSON object, got Number.", e3.Message);
    }

    [Fact]
    public void JsonArrayFilesAreAccepted()
    {
        using var dir = new TempDirectory();
        string path = dir.File("d.json", "[{\"sentence\": \"a\", \"label\": 1}, {\"sentence\": \"b\", \"label\": 0}]");
        var ds = DataFiles.Read(path, new DataFileOptions { LabelColumn = "label" });
        Assert.Equal(["a", "b"], ds.Column<string>("sentence"));
        Assert.Equal(ClassLabel.FromNumClasses(2), ds.Features["label"]);
    }
}
