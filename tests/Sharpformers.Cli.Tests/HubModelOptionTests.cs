using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Hub.Tests.FakeHub;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

/// <summary>`classify` and `tokenize` with a Hub repo id for --model, --revision, --cache-dir and --local-files-only.</summary>
public sealed class HubModelOptionTests : IAsyncLifetime
{
    private const string Repo = "sharpformers-test/tiny-bert";
    private readonly string cacheDir = Path.Combine(Path.GetTempPath(), "sharpformers-cli-hub", Guid.NewGuid().ToString("N"));
    private FakeHubServer server = null!;
    private string v1Commit = "";

    public async Task InitializeAsync()
    {
        server = await FakeHubServer.StartAsync();
        var repo = new FakeRepo(Repo);
        var files = Directory.GetFiles(Fixtures.Model("tiny-bert")).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        var config = JsonNode.Parse(files["config.json"])!.AsObject();
        config["id2label"] = new JsonObject { ["0"] = "NEG", ["1"] = "NEU", ["2"] = "POS" };
        config["label2id"] = new JsonObject { ["NEG"] = 0, ["NEU"] = 1, ["POS"] = 2 };
        v1Commit = repo.AddCommit("v1", new Dictionary<string, byte[]>(files) { ["config.json"] = Encoding.UTF8.GetBytes(config.ToJsonString()) }, "v1");
        repo.AddCommit("main", files, "main");
        server.AddRepo(repo);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        if (Directory.Exists(cacheDir)) Directory.Delete(cacheDir, recursive: true);
    }

    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext { In = new StringReader(stdin), Out = stdout, Error = stderr, InputStream = new MemoryStream(Encoding.UTF8.GetBytes(stdin)) };
        int code = new CliApp(CommandRegistry.All()).Run(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string[] Hub(params string[] more) => ["--cache-dir", cacheDir, "--endpoint", server.Endpoint, .. more];

    [Fact]
    public async Task Classify_ByRepoId_ThenFromTheCacheOnly_MatchesThePipelineGoldens()
    {
        var golden = Goldens.Load("tiny-bert").GetProperty("pipeline_text_classification");
        string[] texts = golden.GetProperty("texts").Strings().Take(3).ToArray();

        var online = Run("", ["classify", "--model", Repo, "--format", "jsonl", .. Hub(), .. texts]);
        await server.StopAsync();
        var offline = Run("", ["classify", "--model", Repo, "--format", "jsonl", .. Hub("--local-files-only"), .. texts]);

        foreach (var (code, output, error) in new[] { online, offline })
        {
            Assert.True(code == 0, error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(texts.Length, lines.Length);
            for (int i = 0; i < texts.Length; i++)
            {
                using var line = JsonDocument.Parse(lines[i]);
                Assert.Equal(golden.GetProperty("default")[i].GetProperty("label").GetString(), line.RootElement.GetProperty("label").GetString());
                Assert.Equal(golden.GetProperty("default")[i].GetProperty("score").GetDouble(), line.RootElement.GetProperty("score").GetDouble(), 1e-5);
            }
        }
        Assert.Equal("", offline.Err);
    }

    [Fact]
    public void Classify_WithARevision_UsesThatRevisionsConfig()
    {
        var (code, output, error) = Run("", ["classify", "--model", Repo, "--revision", "v1", .. Hub(), "I love this!"]);

        Assert.True(code == 0, error);
        Assert.Contains("NEU", output);
        Assert.True(Directory.Exists(Path.Combine(cacheDir, "models--sharpformers-test--tiny-bert", "snapshots", v1Commit)));
    }

    [Fact]
    public void Tokenize_ByRepoId_ThenLocalFilesOnly_GivesTheGoldenIds()
    {
        var golden = Goldens.Load("tiny-bert").GetProperty("tokenization").GetProperty("per_text")[0];
        string input = "{\"text\": \"I've been waiting for a HuggingFace course my whole life.\"}\n";

        foreach (string[] options in new[] { Hub(), Hub("--local-files-only") })
        {
            var (code, output, error) = Run(input, ["tokenize", "--model", Repo, .. options]);
            Assert.True(code == 0, error);
            using var line = JsonDocument.Parse(output.Trim());
            Assert.Equal(golden.GetProperty("encoding").GetProperty("input_ids").Ints(),
                line.RootElement.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }
    }

    [Fact]
    public void LocalFilesOnly_WithNothingCached_IsOneClearErrorLine()
    {
        var (code, output, error) = Run("", ["classify", "--model", Repo, .. Hub("--local-files-only"), "hello"]);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal(
            $"error: '{Repo}' is not a folder on disk, so it was taken as a Hub repo id: none of its files (tokenizer_config.json, config.json, " +
            "special_tokens_map.json, added_tokens.json, tokenizer.json, vocab.txt, vocab.json, merges.txt, encoder.json, vocab.bpe, spiece.model, " +
            $"sentencepiece.bpe.model, spm.model) is in the cache {cacheDir} for revision 'main', and LocalFilesOnly is set, so the Hub was not asked. " +
            $"Download it once while online (`sharpformers download {Repo}`).\n",
            error);
        Assert.Equal(0, server.RequestCount);
    }
}
