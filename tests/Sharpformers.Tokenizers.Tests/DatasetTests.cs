using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Sharpformers.TestSupport;
using Xunit.Abstractions;

namespace Sharpformers.Tokenizers.Tests;

/// <summary>
/// Whole real datasets (dataset tier, ../shared): every text tokenizes without error, and the vocabulary-file
/// tokenizer, the tokenizer.json tokenizer and the general (unfused) path give identical ids.
/// </summary>
public sealed class DatasetTests(ITestOutputHelper output)
{
    [DatasetFact]
    public void Sst2TrainAndDevWithBertBaseUncased()
    {
        var texts = ReadTsvColumn("sst2/train.tsv", "sentence").Concat(ReadTsvColumn("sst2/dev.tsv", "sentence")).ToList();
        Assert.Equal(67_349 + 872, texts.Count);
        CheckDataset("SST-2 train+dev", texts, "bert-base-uncased", compareTokenizerJson: true);
    }

    [DatasetFact]
    public void AllImdbReviewsWithBertBaseUncased()
    {
        var texts = ReadImdbReviews();
        Assert.Equal(50_000, texts.Count);
        CheckDataset("IMDb train+test", texts, "bert-base-uncased", compareTokenizerJson: true);
    }

    [DatasetFact]
    public void ChnSentiCorpWithBertBaseChinese()
    {
        var texts = ReadTsvColumn("chnsenticorp/train.tsv", "text_a")
            .Concat(ReadTsvColumn("chnsenticorp/dev.tsv", "text_a"))
            .Concat(ReadTsvColumn("chnsenticorp/test.tsv", "text_a")).ToList();
        Assert.Equal(9_600 + 1_200 + 1_200, texts.Count);
        CheckDataset("ChnSentiCorp train+dev+test", texts, "bert-base-chinese", compareTokenizerJson: true);
    }

    private void CheckDataset(string name, List<string> texts, string vocab, bool compareTokenizerJson)
    {
        long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
        var slow = AutoTokenizer.FromPretrained(Fixtures.Vocab(vocab), new TokenizerLoadOptions { UseFast = false });
        slow.Call(texts.Take(2000).ToList()); // warm-up (JIT), so the time below is the steady state
        var watch = Stopwatch.StartNew();
        var encoded = slow.Call(texts);
        double seconds = watch.Elapsed.TotalSeconds;
        Assert.Equal(texts.Count, encoded.Count);
        long tokens = encoded.InputIds.Sum(r => (long)r.Length);
        output.WriteLine($"{name}: {texts.Count:N0} texts, {bytes / 1e6:F1} MB, {tokens:N0} tokens in {seconds:F2} s "
            + $"({bytes / seconds / 1e6:F1} MB/s, one thread, vocabulary files{(slow.Pipeline.HasFusedPath ? ", fused path" : "")}; noisy shared machine)");
        Assert.All(encoded.InputIds, row => Assert.True(row.Length >= 2));

        // The tokenizer.json form of the same tokenizer: the folder's own, or the one SavePretrained writes.
        PreTrainedTokenizer fast;
        string? temp = null;
        if (File.Exists(Path.Combine(Fixtures.Vocab(vocab), "tokenizer.json")))
        {
            fast = AutoTokenizer.FromPretrained(Fixtures.Vocab(vocab));
        }
        else
        {
            temp = Directory.CreateTempSubdirectory("sharpformers-tok-").FullName;
            slow.SavePretrained(temp);
            fast = AutoTokenizer.FromPretrained(temp);
        }
        try
        {
            Assert.True(fast.IsFast);
            watch.Restart();
            var fromJson = fast.Call(texts);
            output.WriteLine($"  tokenizer.json: {watch.Elapsed.TotalSeconds:F2} s");
            var generalIds = new int[texts.Count][];
            slow.Pipeline.UseFastPath = false;
            watch.Restart();
            var general = slow.Call(texts);
            slow.Pipeline.UseFastPath = true;
            output.WriteLine($"  general (unfused) path: {watch.Elapsed.TotalSeconds:F2} s");
            int differences = 0;
            var first = new StringBuilder();
            for (int i = 0; i < texts.Count; i++)
            {
                bool same = encoded.InputIds[i].AsSpan().SequenceEqual(fromJson.InputIds[i])
                    && encoded.InputIds[i].AsSpan().SequenceEqual(general.InputIds[i])
                    && encoded.Encodings[i].Offsets.AsSpan().SequenceEqual(general.Encodings[i].Offsets);
                if (!same && differences++ < 5) first.AppendLine($"  text {i}: {texts[i][..Math.Min(80, texts[i].Length)]}");
            }
            Assert.True(differences == 0, $"{name}: {differences} texts differ between the vocabulary, tokenizer.json and general paths:\n{first}");
        }
        finally
        {
            if (temp is not null) Directory.Delete(temp, recursive: true);
        }
    }

    private static List<string> ReadTsvColumn(string relativePath, string column)
    {
        string path = Path.Combine(Fixtures.SharedDir!, "datasets", relativePath);
        var lines = File.ReadAllLines(path, new UTF8Encoding(false, true));
        int index = Array.IndexOf(lines[0].Split('\t'), column);
        Assert.True(index >= 0, $"{relativePath} has no '{column}' column");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')[index]).ToList();
    }

    /// <summary>The 50,000 labelled reviews of aclImdb_v1.tar.gz (train and test, pos and neg), read with the framework's tar reader.</summary>
    internal static List<string> ReadImdbReviews(bool testOnly = false)
    {
        string path = Path.Combine(Fixtures.SharedDir!, "datasets", "imdb", "aclImdb_v1.tar.gz");
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var texts = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.DataStream is null || !entry.Name.EndsWith(".txt", StringComparison.Ordinal)) continue;
            string[] parts = entry.Name.Split('/');
            if (parts.Length != 4 || parts[1] is not ("train" or "test") || parts[2] is not ("pos" or "neg")) continue;
            if (testOnly && parts[1] != "test") continue;
            using var reader = new StreamReader(entry.DataStream, new UTF8Encoding(false, true));
            texts.Add(reader.ReadToEnd());
        }
        return texts;
    }
}
