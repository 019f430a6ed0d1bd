namespace Sharpformers.Hub.Tests;

public sealed class HubErrorTests : HubTestBase
{
    [Fact]
    public async Task PrivateRepo_WithoutToken_Is401RepositoryNotFound_WithWhatToDo()
    {
        var e = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => Download(PrivateRepo, "config.json", Options()));

        Assert.Equal(
            $"Repository '{PrivateRepo}' was not found on {Server.Endpoint} (HTTP 401 for {Server.Endpoint}/{PrivateRepo}/resolve/main/config.json). " +
            "Check the repo id ('org/name'); if the repository is private or gated, pass a token that can read it " +
            "(HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`).",
            e.Message);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Equal("RepoNotFound", e.ErrorCode);
    }

    [Fact]
    public async Task PrivateRepo_WithToken_IsDownloaded_AndTheTokenNeverReachesTheCdn()
    {
        string path = await Download(PrivateRepo, "model.safetensors", Options(token: GoodToken));

        Assert.Equal(Fixture("tiny-bert", "model.safetensors"), await File.ReadAllBytesAsync(path));
        var hub = Server.Requests.Single(r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
        var cdn = Server.Requests.Single(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Equal($"Bearer {GoodToken}", hub.Authorization);
        Assert.Null(cdn.Authorization);
    }

    [Fact]
    public async Task TokenFromHfTokenVariable_IsSent()
    {
        var options = new HubOptions
        {
            Endpoint = Server.Endpoint,
            CacheDir = CacheDir,
            Environment = HubEnvironment.FromVariables(new Dictionary<string, string> { ["HF_TOKEN"] = GoodToken }),
            ShowProgress = false,
        };

        await Download(PrivateRepo, "config.json", options);

        Assert.All(Server.Requests, r => Assert.Equal($"Bearer {GoodToken}", r.Authorization));
    }

    [Fact]
    public async Task TokenFromTheTokenFileUnderHfHome_IsSent()
    {
        string home = Path.Combine(CacheDir, "hf-home");
        Directory.CreateDirectory(home);
        await File.WriteAllTextAsync(Path.Combine(home, "token"), GoodToken + "\n");
        var options = new HubOptions
        {
            Endpoint = Server.Endpoint,
            CacheDir = CacheDir,
            Environment = HubEnvironment.FromVariables(new Dictionary<string, string> { ["HF_HOME"] = home }),
            ShowProgress = false,
        };

        await Download(PrivateRepo, "config.json", options);

        Assert.All(Server.Requests, r => Assert.Equal($"Bearer {GoodToken}", r.Authorization));
    }

    [Fact]
    public async Task ImplicitTokenDisabled_SendsNoEnvironmentToken_ButAnExplicitOne()
    {
        var env = HubEnvironment.FromVariables(new Dictionary<string, string> { ["HF_TOKEN"] = GoodToken, ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1" });
        var implicitOnly = new HubOptions { Endpoint = Server.Endpoint, CacheDir = CacheDir, Environment = env, ShowProgress = false };

        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => Download(PrivateRepo, "config.json", implicitOnly));
        Assert.Null(Server.Requests.Single().Authorization);

        var explicitToken = new HubOptions { Endpoint = Server.Endpoint, CacheDir = CacheDir, Environment = env, ShowProgress = false, Token = GoodToken };
        await Download(PrivateRepo, "config.json", explicitToken);
        Assert.Equal($"Bearer {GoodToken}", Server.Requests[^1].Authorization);
    }

    [Fact]
    public async Task MissingRepo_WithToken_Is404RepositoryNotFound_AndSaysTheTokenWasSent()
    {
        var e = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => Download("nobody/nothing", "config.json", Options(token: GoodToken)));

        Assert.Equal(
            $"Repository 'nobody/nothing' was not found on {Server.Endpoint} (HTTP 404 for {Server.Endpoint}/nobody/nothing/resolve/main/config.json). " +
            "Check the repo id ('org/name'); if the repository is private or gated, pass a token that can read it " +
            "(HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`). " +
            "A token was sent, and it does not give access to this repository.",
            e.Message);
    }

    [Fact]
    public async Task MissingFile_Is404EntryNotFound_AndIsRecordedInNoExist()
    {
        var e = await Assert.ThrowsAsync<EntryNotFoundException>(() => Download(TinyBert, "tokenizer.json", Options()));

        Assert.Equal(
            $"Repository '{TinyBert}' has no file 'tokenizer.json' at revision 'main' (HTTP 404 for {Server.Endpoint}/{TinyBert}/resolve/main/tokenizer.json).",
            e.Message);
        string marker = Path.Combine(Storage(TinyBert), ".no_exist", MainCommit, "tokenizer.json");
        Assert.True(File.Exists(marker));
        Assert.Equal(0, new FileInfo(marker).Length);
        Assert.Equal(MainCommit, await File.ReadAllTextAsync(Path.Combine(Storage(TinyBert), "refs", "main")));
    }

    [Fact]
    public async Task MissingRevision_Is404RevisionNotFound()
    {
        var e = await Assert.ThrowsAsync<RevisionNotFoundException>(() => Download(TinyBert, "config.json", Options(revision: "no-such-branch")));

        Assert.Equal(
            $"Revision 'no-such-branch' does not exist in repository '{TinyBert}' (HTTP 404 for {Server.Endpoint}/{TinyBert}/resolve/no-such-branch/config.json). " +
            "Use a branch, a tag or a full 40-character commit hash of that repository.",
            e.Message);
    }

    [Fact]
    public async Task GatedRepo_WithoutToken_SaysToRequestAccess()
    {
        var e = await Assert.ThrowsAsync<GatedRepoException>(() => Download(GatedRepo, "config.json", Options()));

        Assert.Equal(
            $"Repository '{GatedRepo}' is gated (HTTP 401 for {Server.Endpoint}/{GatedRepo}/resolve/main/config.json): request access at " +
            $"{Server.Endpoint}/{GatedRepo} while logged in, then pass a token of that account " +
            "(HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`).",
            e.Message);
    }

    [Fact]
    public async Task GatedRepo_WithATokenWithoutAccess_Is403()
    {
        var e = await Assert.ThrowsAsync<GatedRepoException>(() => Download(GatedRepo, "config.json", Options(token: "hf_other")));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
        Assert.StartsWith($"Repository '{GatedRepo}' is gated (HTTP 403 for ", e.Message);
    }

    [Fact]
    public async Task GatedRepo_WithAccess_IsDownloaded()
    {
        string path = await Download(GatedRepo, "vocab.txt", Options(token: GoodToken));

        Assert.Equal(Fixture("tiny-bert", "vocab.txt"), await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task AuthErrors_FallBackToTheCache_LikeHuggingfaceHub()
    {
        string path = await Download(PrivateRepo, "config.json", Options(token: GoodToken));

        // A later call without the token gets 401, but the cached file still answers.
        string again = await Download(PrivateRepo, "config.json", Options());

        Assert.Equal(path, again);
    }

    [Theory]
    [InlineData("../etc", "config.json")]
    [InlineData("a/b/c", "config.json")]
    [InlineData("org--x/name", "config.json")]
    public async Task MalformedRepoId_IsRejectedBeforeAnyRequest(string repoId, string file)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Download(repoId, file, Options()));

        Assert.StartsWith($"'{repoId}' is not a valid Hub repo id: expected 'name' or 'org/name'", e.Message);
        Assert.Equal(0, Server.RequestCount);
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("/etc/passwd")]
    [InlineData("a/./b")]
    public async Task FileNamesThatWouldEscapeTheSnapshot_AreRejected(string file)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Download(TinyBert, file, Options()));

        Assert.StartsWith($"'{file}' is not a valid file name inside a repository", e.Message);
        Assert.Equal(0, Server.RequestCount);
    }
}
