using Sharpformers.Hub.Tests.FakeHub;
using Sharpformers.TestSupport;

namespace Sharpformers.Hub.Tests;

/// <summary>
/// A fresh fake Hub and an empty cache folder per test. The Hub serves the tiny fixture models:
/// "sharpformers-test/tiny-bert" (main = the fixture, tag v1 = an older commit with another
/// config.json), "sharpformers-test/tiny-bert-bin" (pytorch_model.bin), a private and a gated copy.
/// </summary>
public abstract class HubTestBase : IAsyncLifetime
{
    public const string TinyBert = "sharpformers-test/tiny-bert";
    public const string TinyBertBin = "sharpformers-test/tiny-bert-bin";
    public const string PrivateRepo = "sharpformers-test/private-bert";
    public const string GatedRepo = "sharpformers-test/gated-bert";
    public const string GoodToken = "hf_test_good_token";

    protected FakeHubServer Server { get; private set; } = null!;

    protected string CacheDir { get; } = Path.Combine(Path.GetTempPath(), "sharpformers-hub-tests", Guid.NewGuid().ToString("N"));

    protected string MainCommit { get; private set; } = "";

    protected string V1Commit { get; private set; } = "";

    protected FakeRepo TinyBertRepo { get; private set; } = null!;

    public static byte[] V1Config { get; } = "{\"model_type\": \"bert\", \"note\": \"v1\"}\n"u8.ToArray();

    public static IReadOnlyDictionary<string, byte[]> FixtureFiles(string model) =>
        Directory.GetFiles(Fixtures.Model(model)).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(CacheDir);
        Server = await FakeHubServer.StartAsync();
        TinyBertRepo = new FakeRepo(TinyBert);
        var v1Files = FixtureFiles("tiny-bert").ToDictionary(f => f.Key, f => f.Value);
        v1Files["config.json"] = V1Config;
        V1Commit = TinyBertRepo.AddCommit("v1", v1Files, "v1");
        MainCommit = TinyBertRepo.AddCommit("main", FixtureFiles("tiny-bert"), "main");
        Server.AddRepo(TinyBertRepo);
        var bin = new FakeRepo(TinyBertBin);
        bin.AddCommit("main", FixtureFiles("tiny-bert-bin"), "main");
        Server.AddRepo(bin);
        var privateRepo = new FakeRepo(PrivateRepo);
        privateRepo.AllowedTokens.Add(GoodToken);
        privateRepo.AddCommit("main", FixtureFiles("tiny-bert"), "main");
        Server.AddRepo(privateRepo);
        var gated = new FakeRepo(GatedRepo) { Gated = true };
        gated.AllowedTokens.Add(GoodToken);
        gated.AddCommit("main", FixtureFiles("tiny-bert"), "main");
        Server.AddRepo(gated);
    }

    public virtual async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(CacheDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Options pointing at the fake Hub and the test's cache, with an empty environment.</summary>
    protected HubOptions Options(string? revision = null, string? token = null, bool offline = false, bool localFilesOnly = false, int maxRetries = 5) => new()
    {
        Endpoint = Server.Endpoint,
        CacheDir = CacheDir,
        Revision = revision,
        Token = token,
        LocalFilesOnly = localFilesOnly,
        Environment = HubEnvironment.FromVariables(offline ? new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1" } : []),
        ShowProgress = false,
        RetryDelay = TimeSpan.Zero,
        MaxRetries = maxRetries,
    };

    protected string Storage(string repoId) => Path.Combine(CacheDir, "models--" + repoId.Replace("/", "--"));

    protected static byte[] Fixture(string model, string file) => File.ReadAllBytes(Path.Combine(Fixtures.Model(model), file));

    protected Task<string> Download(string repoId, string file, HubOptions options) => HubClient.Shared.DownloadFileAsync(repoId, file, options);
}
