using System.Text;
using System.Text.Json;
using Sharpformers.Cli;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

public sealed class TokenizeCommandTests
{
    private static (int ExitCode, string Out, string Error) Run(byte[] stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext
        {
            In = new StringReader(""),
            Out = output,
            Error = error,
            InputStream = new MemoryStream(stdin),
        };
        int code = new CliApp(CommandRegistry.All()).Run(["tokenize", .. args], context);
        return (code, output.ToString(), error.ToString());
    }

    private static (int ExitCode, string Out, string Error) Run(string stdin, params string[] args) =>
        Run(Encoding.UTF8.GetBytes(stdin), args);

    private static List<JsonElement> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static int[] Ints(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static readonly string BertUncased = Fixtures.Vocab("bert-base-uncased");

    [Fact]
    public void WritesOneLinePerInputWithIdsMasksAndTokens()
    {
        var (code, output, error) = Run(
            "{\"text\": \"I've been waiting for a HuggingFace course my whole life.\"}\n"
            + "{\"text\": \"How old are you?\", \"text_pair\": \"I am 6.\"}\n",
            "--model", Fixtures.Model("tiny-bert"));
        Assert.Equal(0, code);
        Assert.Equal("", error);
        var lines = Lines(output);
        Assert.Equal(2, lines.Count);
        var golden = Goldens.Load("tiny-bert").GetProperty("tokenization").GetProperty("per_text")[0];
        Assert.Equal(golden.GetProperty("encoding").GetProperty("input_ids").Ints(), Ints(lines[0], "input_ids"));
        Assert.Equal(golden.GetProperty("encoding").GetProperty("token_type_ids").Ints(), Ints(lines[0], "token_type_ids"));
        Assert.Equal(golden.GetProperty("encoding").GetProperty("attention_mask").Ints(), Ints(lines[0], "attention_mask"));
        Assert.Equal(golden.GetProperty("tokens_with_special").Strings(), lines[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!));
        int[] pairTypes = Ints(lines[1], "token_type_ids");
        Assert.Equal(0, pairTypes[0]);
        Assert.Equal(1, pairTypes[^1]);
        Assert.Equal(["input_ids", "token_type_ids", "attention_mask", "tokens"], lines[0].EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void ModelsWithoutTokenTypeIdsStillGetThem()
    {
        var (code, output, _) = Run("{\"text\": \"Hello world\", \"text_pair\": \"Bye\"}\n", "--model", Fixtures.Model("tiny-roberta"));
        Assert.Equal(0, code);
        var line = Lines(output).Single();
        int[] ids = Ints(line, "input_ids");
        Assert.Equal(0, ids[0]);
        int[] types = Ints(line, "token_type_ids");
        Assert.Equal(ids.Length, types.Length);
        Assert.All(types[..4], t => Assert.Equal(0, t)); // <s> Hello world </s> is the first sequence
    }

    [Theory]
    [InlineData("--truncation")]
    [InlineData("--truncation", "longest_first")]
    [InlineData("--truncation", "only_first")]
    [InlineData("--truncation=longest_first")]
    public void TruncationWithOrWithoutAStrategy(params string[] truncation)
    {
        var args = new List<string> { "--model", BertUncased, "--max-length", "6" };
        args.AddRange(truncation);
        var (code, output, error) = Run("{\"text\": \"one two three four five six seven\"}\n", [.. args]);
        Assert.True(code == 0, error);
        Assert.Equal([101, 2028, 2048, 2093, 2176, 102], Ints(Lines(output).Single(), "input_ids"));
    }

    [Fact]
    public void BareTruncationFollowedByAnotherOption()
    {
        var (code, output, error) = Run("{\"text\": \"one two three four five six seven\"}\n",
            "--model", BertUncased, "--truncation", "--max-length", "5", "--no-special-tokens");
        Assert.True(code == 0, error);
        Assert.Equal([2028, 2048, 2093, 2176, 2274], Ints(Lines(output).Single(), "input_ids"));
    }

    [Fact]
    public void UnknownTruncationStrategyIsAUsageError()
    {
        var (code, _, error) = Run("{\"text\": \"x\"}\n", "--model", BertUncased, "--truncation", "shortest");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("'--truncation' expects one of longest_first, only_first, only_second; got 'shortest'", error);
    }

    [Fact]
    public void PaddingLongestPadsTheWholeInputAndMaxLengthPadsEachLine()
    {
        string input = "{\"text\": \"short\"}\n{\"text\": \"a somewhat longer sentence here\"}\n";
        var (code, output, _) = Run(input, "--model", BertUncased, "--padding", "longest");
        Assert.Equal(0, code);
        var lines = Lines(output);
        Assert.Equal(Ints(lines[1], "input_ids").Length, Ints(lines[0], "input_ids").Length);
        Assert.Equal([1, 1, 1, 0, 0, 0, 0], Ints(lines[0], "attention_mask"));
        Assert.Equal("[PAD]", lines[0].GetProperty("tokens")[6].GetString());

        (code, output, _) = Run(input, "--model", BertUncased, "--padding", "max_length", "--max-length", "10");
        Assert.Equal(0, code);
        Assert.All(Lines(output), l => Assert.Equal(10, Ints(l, "input_ids").Length));
    }

    [Fact]
    public void ThousandsOfLinesStreamInOrder()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) sb.Append("{\"text\": \"review number ").Append(i).Append(" is fine\"}\n");
        var (code, output, _) = Run(sb.ToString(), "--model", BertUncased, "--threads", "2");
        Assert.Equal(0, code);
        var lines = Lines(output);
        Assert.Equal(3000, lines.Count);
        var tokenizer = Tokenizers.AutoTokenizer.FromPretrained(BertUncased);
        foreach (int i in new[] { 0, 511, 512, 1999, 2999 })
        {
            Assert.Equal(tokenizer.Encode($"review number {i} is fine"), Ints(lines[i], "input_ids"));
        }
    }

    [Fact]
    public void InvalidUtf8IsAnErrorWithTheLineNumber()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("{\"text\": \"fine\"}\n{\"text\": \"bad "));
        bytes.AddRange([0xC3, 0x28]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}\n"));
        var (code, _, error) = Run(bytes.ToArray(), "--model", BertUncased);
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith("error: stdin line 2: invalid UTF-8", error);
        Assert.DoesNotContain("Exception", error);
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n", "error: stdin line 2: not valid JSON")]
    [InlineData("{\"text\": 5}\n", "error: stdin line 1: \"text\" must be a string, got number")]
    [InlineData("{\"sentence\": \"x\"}\n", "error: stdin line 1: \"text\" must be a string, and it is missing")]
    [InlineData("[\"x\"]\n", "error: stdin line 1: expected a JSON object")]
    [InlineData("{\"text\": \"a\", \"text_pair\": [1]}\n", "error: stdin line 1: \"text_pair\" must be a string, got array")]
    public void MalformedLinesAreErrorsWithTheLineNumber(string input, string expected)
    {
        var (code, _, error) = Run(input, "--model", BertUncased);
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public void BlankLinesAndCrLfAreAccepted()
    {
        var (code, output, _) = Run("{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}", "--model", BertUncased);
        Assert.Equal(0, code);
        Assert.Equal(2, Lines(output).Count);
    }

    [DatasetFact]
    public void TwentyFiveThousandImdbReviewsInOneCall()
    {
        var reviews = new List<string>();
        string tarball = Path.Combine(Fixtures.SharedDir!, "datasets", "imdb", "aclImdb_v1.tar.gz");
        using (var file = File.OpenRead(tarball))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress))
        using (var tar = new System.Formats.Tar.TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null || !entry.Name.EndsWith(".txt", StringComparison.Ordinal)) continue;
                if (!entry.Name.Contains("/test/pos/", StringComparison.Ordinal) && !entry.Name.Contains("/test/neg/", StringComparison.Ordinal)) continue;
                reviews.Add(new StreamReader(entry.DataStream).ReadToEnd());
            }
        }
        Assert.Equal(25_000, reviews.Count);
        var input = new StringBuilder();
        foreach (string r in reviews) input.Append(JsonSerializer.Serialize(new { text = r })).Append('\n');
        var (code, output, error) = Run(input.ToString(), "--model", BertUncased, "--truncation", "--max-length", "512");
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(25_000, lines.Length);
        var tokenizer = Tokenizers.AutoTokenizer.FromPretrained(BertUncased);
        foreach (int i in new[] { 0, 1, 12_499, 12_500, 24_999 })
        {
            var ids = Ints(JsonDocument.Parse(lines[i]).RootElement, "input_ids");
            Assert.Equal(tokenizer.Encode(reviews[i], truncation: true, maxLength: 512), ids);
        }
    }

    [Fact]
    public void MissingModelFolderIsOneErrorLine()
    {
        var (code, _, error) = Run("{\"text\": \"a\"}\n", "--model", "/nonexistent/tokenizer/folder");
        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith("error: '/nonexistent/tokenizer/folder' is neither a model folder on disk nor a valid Hub repo id", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
