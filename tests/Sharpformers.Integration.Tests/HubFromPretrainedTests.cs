using System.Text.Json.Nodes;
using Sharpformers.Hub;
using Sharpformers.Hub.Tests.FakeHub;
using Sharpformers.Models;
using Sharpformers.Models.Bert;
using Sharpformers.Models.Configuration;
using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;
using static Sharpformers.Pipelines.PipelineFactory;

namespace Sharpformers.Integration.Tests;

/// <summary>
/// FromPretrained("org/name") for config, model, tokenizer and pipeline through the Hub tests' loopback
/// Hub: first download, then the cache alone (HF_HUB_OFFLINE=1, LocalFilesOnly, and online with the
/// server stopped), revisions, .bin and sharded repositories, and the errors users see.
/// </summary>
public sealed class HubFromPretrainedTests : IAsyncLifetime
{
    private const string TinyBert = "sharpformers-test/tiny-bert";
    private const string TinyBertBin = "sharpformers-test/tiny-bert-bin";
    private const string Sharded = "sharpformers-test/tiny-bert-sharded";
    private const string Incomplete = "sharpformers-test/incomplete-shards";
    private const string Private = "sharpformers-test/private-bert";
    private const string GoodToken = "hf_integration_token";

    private readonly string root = Directory.CreateTempSubdirectory("integration-hub-").FullName;
    private FakeHubServer server = null!;
    private string v1Commit = "";

    private string CacheDir => Path.Combine(root, "cache");

    public async Task InitializeAsync()
    {
        server = await FakeHubServer.StartAsync();
        var tinyBert = new FakeRepo(TinyBert);
        // v1: the same model with other label names, to see which revision was loaded.
        var v1 = Files(Fixtures.Model(GoldenChecks.Fixture));
        var config = JsonNode.Parse(v1["config.json"])!.AsObject();
        config["id2label"] = new JsonObject { ["0"] = "NEG", ["1"] = "NEU", ["2"] = "POS" };
        config["label2id"] = new JsonObject { ["NEG"] = 0, ["NEU"] = 1, ["POS"] = 2 };
        v1["config.json"] = System.Text.Encoding.UTF8.GetBytes(config.ToJsonString());
        v1Commit = tinyBert.AddCommit("v1", v1, "v1");
        tinyBert.AddCommit("main", Files(Fixtures.Model(GoldenChecks.Fixture)), "main");
        server.AddRepo(tinyBert);
        Add(TinyBertBin, Files(Fixtures.Model("tiny-bert-bin")));
        var sharded = Files(TinyBertCopies.ShardedSafetensors(root));
        Add(Sharded, sharded);
        Add(Incomplete, sharded.Where(f => f.Key != "model-00002-of-00002.safetensors").ToDictionary());
        var privateRepo = new FakeRepo(Private);
        privateRepo.AllowedTokens.Add(GoodToken);
        privateRepo.AddCommit("main", Files(Fixtures.Model(GoldenChecks.Fixture)), "main");
        server.AddRepo(privateRepo);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private void Add(string id, Dictionary<string, byte[]> files)
    {
        var repo = new FakeRepo(id);
        repo.AddCommit("main", files, "main");
        server.AddRepo(repo);
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    /// <summary>Options pointing at the loopback Hub and this test's cache, with an environment of our own.</summary>
    private FromPretrainedOptions Options(bool hubOffline = false, bool localFilesOnly = false, string? revision = null, string? token = null) => new()
    {
        Endpoint = server.Endpoint,
        CacheDir = CacheDir,
        Revision = revision,
        Token = token,
        LocalFilesOnly = localFilesOnly,
        Environment = HubEnvironment.FromVariables(hubOffline ? new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1" } : []),
        ShowProgress = false,
        RetryDelay = TimeSpan.Zero,
    };

    private string Snapshot(string repoId, string commit) => Path.Combine(CacheDir, "models--" + repoId.Replace("/", "--"), "snapshots", commit);

    /// <summary>Config, tokenizer (checked against the golden tokenization), models and pipeline of a repo id, all checked against the goldens.</summary>
    private static void AssertEverythingMatchesGoldens(string repoId, FromPretrainedOptions options, string what)
    {
        var config = Assert.IsType<BertConfig>(AutoConfig.FromPretrained(repoId, options));
        Assert.Equal("positive", config.Id2Label[2]);
        var tokenizer = AutoTokenizer.FromPretrained(repoId, new TokenizerLoadOptions(options));
        var golden = Goldens.Load(GoldenChecks.Fixture);
        var encoded = tokenizer.Call(golden.GetProperty("texts").Strings(), padding: true, truncation: true);
        Assert.Equal(golden.At("tokenization.batch_padding_true_truncation_true.input_ids").IntRows(), encoded.InputIds);
        GoldenChecks.AssertMatchesGoldens(repoId, what, options: options);
    }

    [Fact]
    public async Task RepoId_FirstDownload_ThenOffline_ThenWithTheServerStopped_AllMatchTheGoldens()
    {
        AssertEverythingMatchesGoldens(TinyBert, Options(), "org/tiny-bert by repo id, first download");
        Assert.Contains(server.Requests, r => r.Path.EndsWith("/resolve/main/model.safetensors", StringComparison.Ordinal));
        string commit = File.ReadAllText(Path.Combine(CacheDir, "models--sharpformers-test--tiny-bert", "refs", "main"));
        Assert.Equal(
            ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"],
            Directory.GetFiles(Snapshot(TinyBert, commit)).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        server.ClearRequests();
        AssertEverythingMatchesGoldens(TinyBert, Options(hubOffline: true), "org/tiny-bert by repo id, HF_HUB_OFFLINE=1");
        AssertEverythingMatchesGoldens(TinyBert, Options(localFilesOnly: true), "org/tiny-bert by repo id, LocalFilesOnly");
        Assert.Equal(0, server.RequestCount);

        await server.StopAsync();
        AssertEverythingMatchesGoldens(TinyBert, Options(hubOffline: true), "org/tiny-bert by repo id, HF_HUB_OFFLINE=1 with the server stopped");
        AssertEverythingMatchesGoldens(TinyBert, Options(), "org/tiny-bert by repo id, online with the Hub unreachable");
    }

    [Fact]
    public void RepoIdNotCached_Offline_SaysSoAndWhatToDo()
    {
        var offline = Options(hubOffline: true);

        var model = Assert.Throws<LocalEntryNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(TinyBert, offline));
        var tokenizer = Assert.Throws<LocalEntryNotFoundException>(() => AutoTokenizer.FromPretrained(TinyBert, new TokenizerLoadOptions(offline)));

        Assert.Equal(
            $"'{TinyBert}' is not a folder on disk, so it was taken as a Hub repo id: 'config.json' of '{TinyBert}' (revision 'main') is not in the cache " +
            $"{CacheDir} (the cache has nothing for '{TinyBert}' ({Path.Combine(CacheDir, "models--sharpformers-test--tiny-bert")} does not exist)), " +
            "and offline mode (HF_HUB_OFFLINE=1) is on, " +
            $"so it was not downloaded. Download it once while online (`sharpformers download {TinyBert}`) or unset HF_HUB_OFFLINE.",
            model.Message);
        Assert.Equal(
            $"'{TinyBert}' is not a folder on disk, so it was taken as a Hub repo id: none of its files (tokenizer_config.json, config.json, " +
            "special_tokens_map.json, added_tokens.json, tokenizer.json, vocab.txt, vocab.json, merges.txt, encoder.json, vocab.bpe, spiece.model, " +
            $"sentencepiece.bpe.model, spm.model) is in the cache {CacheDir} for revision 'main', and offline mode (HF_HUB_OFFLINE=1) is on, so the Hub was " +
            $"not asked. Download it once while online (`sharpformers download {TinyBert}`).",
            tokenizer.Message);
        Assert.Equal(0, server.RequestCount);
    }

    [Fact]
    public void PathLikeRepoIdThatTheHubDoesNotHave_SaysItIsNeitherAFolderNorARepository()
    {
        var e = Assert.Throws<RepositoryNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained("models/tiny-bert", Options()));

        Assert.StartsWith(
            $"'models/tiny-bert' is not a folder on disk, so it was taken as a Hub repo id: Repository 'models/tiny-bert' was not found on {server.Endpoint} (HTTP 401",
            e.Message);
    }

    [Fact]
    public void PinnedRevision_ByTagAndByCommit_LoadsThatRevision()
    {
        using (var model = AutoModelForSequenceClassification.FromPretrained(TinyBert, Options(revision: "v1")))
        {
            Assert.Equal(["NEG", "NEU", "POS"], model.Config.Id2Label.OrderBy(p => p.Key).Select(p => p.Value));
        }
        using var classifier = Pipeline("text-classification", model: TinyBert, modelOptions: Options(revision: v1Commit));
        Assert.Equal("NEU", classifier.Invoke("I love this!").Label);
        Assert.True(Directory.Exists(Snapshot(TinyBert, v1Commit)));

        // A commit hash already cached is served without any request, as in huggingface_hub.
        server.ClearRequests();
        using var again = AutoModelForSequenceClassification.FromPretrained(TinyBert, Options(revision: v1Commit));
        Assert.Equal(0, server.RequestCount);
    }

    [Fact]
    public void ConcreteModelClasses_LoadByRepoIdToo()
    {
        using var auto = AutoModelForSequenceClassification.FromPretrained(TinyBert, Options());
        using var bert = BertForSequenceClassification.FromPretrained(TinyBert, Options());
        using var baseModel = BertModel.FromPretrained(TinyBert, Options(hubOffline: true));
        var inputs = Sharpformers.Models.ModelInputs.FromIds([[7, 71, 16, 84, 119, 8]]);

        Assert.Equal(auto.Forward(inputs).Logits.ToArray(), bert.Forward(inputs).Logits.ToArray());
        Assert.Equal(bert.Bert.Forward(inputs).LastHiddenState.ToArray(), baseModel.Forward(inputs).LastHiddenState.ToArray());
        var e = Assert.Throws<InvalidDataException>(() => Sharpformers.Models.DistilBert.DistilBertModel.FromPretrained(TinyBert, Options(hubOffline: true)));
        Assert.EndsWith("config.json: model_type is 'bert', but DistilBertModel needs 'distilbert'; use the Auto classes to load any architecture.", e.Message);
    }

    [Fact]
    public void PytorchModelBinRepo_ByRepoId_MatchesTheGoldens()
    {
        var resolved = PretrainedFiles.ResolveCheckpoint(TinyBertBin, Options());
        Assert.Equal(CheckpointFormat.PyTorch, resolved.Format);

        AssertEverythingMatchesGoldens(TinyBertBin, Options(), "org/tiny-bert-bin by repo id");
        server.ClearRequests();
        AssertEverythingMatchesGoldens(TinyBertBin, Options(hubOffline: true), "org/tiny-bert-bin by repo id, offline");
        Assert.Equal(0, server.RequestCount);
    }

    [Fact]
    public void ShardedRepo_ByRepoId_DownloadsEveryShard_AndMatchesTheGoldens()
    {
        AssertEverythingMatchesGoldens(Sharded, Options(), "org/tiny-bert-sharded by repo id");
        var resolved = PretrainedFiles.ResolveCheckpoint(Sharded, Options(hubOffline: true));
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], resolved.ShardPaths.Select(Path.GetFileName));
        Assert.All(resolved.ShardPaths, p => Assert.Equal(Path.GetDirectoryName(resolved.Path), Path.GetDirectoryName(p)));
        AssertEverythingMatchesGoldens(Sharded, Options(hubOffline: true), "org/tiny-bert-sharded by repo id, offline");
    }

    [Fact]
    public void ShardedRepoMissingAShard_NamesTheIndexAndTheShard()
    {
        var e = Assert.Throws<FileNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(Incomplete, Options()));

        string commit = File.ReadAllText(Path.Combine(CacheDir, "models--sharpformers-test--incomplete-shards", "refs", "main"));
        string index = Path.Combine(Snapshot(Incomplete, commit), CheckpointNames.SafetensorsIndex);
        Assert.Equal(
            $"The sharded checkpoint index '{index}' lists the shard 'model-00002-of-00002.safetensors', but repository '{Incomplete}' has no such file " +
            "at revision 'main': the repository is incomplete.",
            e.Message);
    }

    [Fact]
    public void PrivateRepo_LoadsWithItsToken_AndOtherwiseSaysWhatToDo()
    {
        var e = Assert.Throws<RepositoryNotFoundException>(() => AutoConfig.FromPretrained(Private, Options()));
        Assert.StartsWith($"'{Private}' is not a folder on disk, so it was taken as a Hub repo id: Repository '{Private}' was not found on {server.Endpoint}", e.Message);

        server.ClearRequests();
        using var model = AutoModelForSequenceClassification.FromPretrained(Private, Options(token: GoodToken));
        Assert.Equal(3, model.NumLabels);
        Assert.All(server.Requests.Where(r => r.Path.StartsWith("/sharpformers-test/", StringComparison.Ordinal)),
            r => Assert.Equal($"Bearer {GoodToken}", r.Authorization));
    }
}
