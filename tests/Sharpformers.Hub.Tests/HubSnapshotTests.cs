namespace Sharpformers.Hub.Tests;

public sealed class HubSnapshotTests : HubTestBase
{
    private SnapshotDownloadOptions Snapshot(HubOptions hub, params string[] allow) => new()
    {
        Hub = hub,
        AllowPatterns = allow.Length == 0 ? null : allow,
    };

    [Fact]
    public async Task SnapshotDownload_GetsEveryFileOfTheRevision()
    {
        string folder = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));

        Assert.Equal(Path.Combine(Storage(TinyBert), "snapshots", MainCommit), folder);
        var expected = FixtureFiles("tiny-bert");
        Assert.Equal(expected.Keys.Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        foreach (var (name, bytes) in expected) Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(folder, name)));
        Assert.Equal($"/api/models/{TinyBert}/revision/main", Server.Requests[0].Path);
    }

    [Fact]
    public async Task SnapshotDownload_AllowPatterns_FilterLikeFnmatch()
    {
        string folder = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options(), "*.json", "vocab.*"));

        Assert.Equal(
            ["config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task SecondSnapshot_Online_OnlyAsksForTheFileList()
    {
        await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));
        Server.ClearRequests();

        await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));

        // Every file is pinned to the commit the API returned, and cached: no HEAD, no GET.
        Assert.Equal([$"/api/models/{TinyBert}/revision/main"], Server.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Snapshot_Offline_ReturnsTheCachedFolderWithNoRequest()
    {
        string online = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));
        int before = Server.RequestCount;

        string offline = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options(offline: true)));

        Assert.Equal(online, offline);
        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public async Task Snapshot_Offline_NotCached_SaysSo()
    {
        var e = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() =>
            HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options(offline: true))));

        Assert.Equal(
            $"No snapshot of '{TinyBert}' for revision 'main' is in the cache {CacheDir} (looked in {Storage(TinyBert)}), and " +
            $"offline mode (HF_HUB_OFFLINE=1) is on. Download it once while online (`sharpformers download {TinyBert}`) or unset HF_HUB_OFFLINE.",
            e.Message);
    }

    [Fact]
    public async Task Snapshot_ServerStopped_UsesTheCache()
    {
        string online = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));
        await Server.StopAsync();

        string again = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options()));

        Assert.Equal(online, again);
    }

    [Fact]
    public async Task Snapshot_PrivateRepoWithoutToken_RaisesRepositoryNotFound()
    {
        var e = await Assert.ThrowsAsync<RepositoryNotFoundException>(() =>
            HubClient.Shared.SnapshotDownloadAsync(PrivateRepo, Snapshot(Options())));

        Assert.Contains($"(HTTP 401 for {Server.Endpoint}/api/models/{PrivateRepo}/revision/main)", e.Message);
    }

    [Fact]
    public async Task Snapshot_ByCommit_WritesNoRef()
    {
        string folder = await HubClient.Shared.SnapshotDownloadAsync(TinyBert, Snapshot(Options(revision: V1Commit), "config.json"));

        Assert.Equal(HubTestBase.V1Config, await File.ReadAllBytesAsync(Path.Combine(folder, "config.json")));
        Assert.False(Directory.Exists(Path.Combine(Storage(TinyBert), "refs")));
    }
}
