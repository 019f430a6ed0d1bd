using System.Security.Cryptography;
using Sharpformers.Hub.Tests.FakeHub;

namespace Sharpformers.Hub.Tests;

public sealed class HubDownloadTests : HubTestBase
{
    [Fact]
    public async Task FirstDownload_OfSmallFile_UsesHeadThenGetAndWritesBlobSnapshotAndRef()
    {
        string path = await Download(TinyBert, "config.json", Options());

        var file = TinyBertRepo.Commits[MainCommit]["config.json"];
        string storage = Storage(TinyBert);
        Assert.Equal(Path.Combine(storage, "snapshots", MainCommit, "config.json"), path);
        Assert.Equal(Fixture("tiny-bert", "config.json"), await File.ReadAllBytesAsync(path));
        Assert.Equal(Path.Combine("..", "..", "blobs", file.GitSha1), new FileInfo(path).LinkTarget);
        Assert.Equal(MainCommit, await File.ReadAllTextAsync(Path.Combine(storage, "refs", "main")));
        Assert.True(File.Exists(Path.Combine(CacheDir, ".locks", "models--sharpformers-test--tiny-bert", file.GitSha1 + ".lock")));
        Assert.Equal(
            [
                ("HEAD", $"/{TinyBert}/resolve/main/config.json"),
                ("GET", $"/{TinyBert}/resolve/main/config.json"),
            ],
            Server.Requests.Select(r => (r.Method, r.Path)));
    }

    [Fact]
    public async Task FirstDownload_OfLfsFile_FollowsTheCdnRedirectAndNamesTheBlobBySha256()
    {
        string path = await Download(TinyBert, "model.safetensors", Options());

        byte[] expected = Fixture("tiny-bert", "model.safetensors");
        string sha = Convert.ToHexStringLower(SHA256.HashData(expected));
        Assert.Equal(expected, await File.ReadAllBytesAsync(path));
        Assert.Equal(Path.Combine("..", "..", "blobs", sha), new FileInfo(path).LinkTarget);
        Assert.Equal(
            [
                ("HEAD", $"/{TinyBert}/resolve/main/model.safetensors"),
                ("GET", $"/cdn/{sha}"),
            ],
            Server.Requests.Select(r => (r.Method, r.Path)));
        Assert.Empty(Directory.GetFiles(Path.Combine(Storage(TinyBert), "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task SecondCall_Online_MakesOneHeadRequestAndDownloadsNothing()
    {
        string first = await Download(TinyBert, "model.safetensors", Options());
        Server.ClearRequests();

        string second = await Download(TinyBert, "model.safetensors", Options());

        Assert.Equal(first, second);
        Assert.Equal([("HEAD", $"/{TinyBert}/resolve/main/model.safetensors")], Server.Requests.Select(r => (r.Method, r.Path)));
    }

    [Fact]
    public async Task SecondCall_WithHfHubOffline_MakesNoRequest()
    {
        string first = await Download(TinyBert, "model.safetensors", Options());
        int before = Server.RequestCount;

        string second = await Download(TinyBert, "model.safetensors", Options(offline: true));

        Assert.Equal(first, second);
        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public async Task SecondCall_WithLocalFilesOnly_MakesNoRequest()
    {
        string first = await Download(TinyBert, "vocab.txt", Options());
        int before = Server.RequestCount;

        string second = await Download(TinyBert, "vocab.txt", Options(localFilesOnly: true));

        Assert.Equal(first, second);
        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public async Task SecondCall_WithTheServerStopped_IsServedFromTheCache()
    {
        string first = await Download(TinyBert, "model.safetensors", Options());
        await Server.StopAsync();

        string second = await Download(TinyBert, "model.safetensors", Options());

        Assert.Equal(first, second);
        Assert.Equal(Fixture("tiny-bert", "model.safetensors"), await File.ReadAllBytesAsync(second));
    }

    [Fact]
    public async Task ServerStopped_AndNotCached_SaysTheHubCouldNotBeReached()
    {
        string endpoint = Server.Endpoint;
        await Server.StopAsync();

        var e = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => Download(TinyBert, "config.json", Options()));

        Assert.StartsWith($"Could not reach the Hub for 'config.json' of '{TinyBert}' (revision 'main'): ", e.Message);
        Assert.EndsWith(
            $"It is not in the cache {CacheDir} either (the cache has nothing for '{TinyBert}' ({Storage(TinyBert)} does not exist)). " +
            "Check your connection and HF_ENDPOINT, or load the model from a folder on disk.", e.Message);
        Assert.Contains(endpoint.Replace("http://", ""), e.Message);
    }

    [Fact]
    public async Task Offline_AndNotCached_SaysHowToGetTheFile()
    {
        var e = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => Download(TinyBert, "config.json", Options(offline: true)));

        Assert.Equal(
            $"'config.json' of '{TinyBert}' (revision 'main') is not in the cache {CacheDir} (the cache has nothing for '{TinyBert}' " +
            $"({Storage(TinyBert)} does not exist)), and offline mode (HF_HUB_OFFLINE=1) is on, so it was not downloaded. " +
            $"Download it once while online (`sharpformers download {TinyBert}`) or unset HF_HUB_OFFLINE.",
            e.Message);
        Assert.Equal(0, Server.RequestCount);
    }

    [Fact]
    public async Task Offline_RevisionNeverResolved_SaysTheCommitIsUnknown()
    {
        await Download(TinyBert, "config.json", Options());

        var e = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => Download(TinyBert, "config.json", Options(revision: "v1", localFilesOnly: true)));

        Assert.Contains(
            $"(the cache does not know which commit revision 'v1' is (no {Path.Combine(Storage(TinyBert), "refs", "v1")}))", e.Message);
        Assert.EndsWith("or set LocalFilesOnly to false (or drop --local-files-only).", e.Message);
    }

    [Fact]
    public async Task RevisionPinnedByCommit_GetsThatCommitsFile_AndLaterCallsNeedNoRequest()
    {
        string path = await Download(TinyBert, "config.json", Options(revision: V1Commit));

        Assert.Equal(Path.Combine(Storage(TinyBert), "snapshots", V1Commit, "config.json"), path);
        Assert.Equal(V1Config, await File.ReadAllBytesAsync(path));
        Assert.False(Directory.Exists(Path.Combine(Storage(TinyBert), "refs")), "a commit hash is not a ref");
        Server.ClearRequests();

        string again = await Download(TinyBert, "config.json", Options(revision: V1Commit));

        Assert.Equal(path, again);
        Assert.Equal(0, Server.RequestCount);
    }

    [Fact]
    public async Task RevisionByTag_RecordsTheTagInRefs()
    {
        string path = await Download(TinyBert, "config.json", Options(revision: "v1"));

        Assert.Equal(V1Config, await File.ReadAllBytesAsync(path));
        Assert.Equal(V1Commit, await File.ReadAllTextAsync(Path.Combine(Storage(TinyBert), "refs", "v1")));
        Assert.Equal($"/{TinyBert}/resolve/v1/config.json", Server.Requests[0].Path);

        string offline = await Download(TinyBert, "config.json", Options(revision: "v1", offline: true));
        Assert.Equal(path, offline);
    }

    [Fact]
    public async Task SameBlobInTwoCommits_IsStoredOnce()
    {
        string main = await Download(TinyBert, "vocab.txt", Options());
        string v1 = await Download(TinyBert, "vocab.txt", Options(revision: "v1"));

        Assert.NotEqual(main, v1);
        Assert.Single(Directory.GetFiles(Path.Combine(Storage(TinyBert), "blobs")));
        // The second commit's entry was linked to the existing blob: HEAD only, no GET.
        Assert.Equal(3, Server.RequestCount);
    }

    [Fact]
    public async Task InterruptedDownload_IsResumedWithARangeRequest_InTheSameCall()
    {
        var file = TinyBertRepo.Commits[MainCommit]["model.safetensors"];
        Server.DropNextDownloadAfter(file.Sha256, 50_000);

        string path = await Download(TinyBert, "model.safetensors", Options());

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        var cdn = Server.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal([null, "bytes=50000-"], cdn.Select(r => r.Range));
    }

    [Fact]
    public async Task InterruptedDownload_LeavesAnIncompleteFile_ThatTheNextCallResumes()
    {
        var file = TinyBertRepo.Commits[MainCommit]["model.safetensors"];
        Server.DropNextDownloadAfter(file.Sha256, 50_000);
        string incomplete = Path.Combine(Storage(TinyBert), "blobs", file.Sha256 + ".incomplete");

        var e = await Assert.ThrowsAsync<IOException>(() => Download(TinyBert, "model.safetensors", Options(maxRetries: 0)));

        Assert.StartsWith(
            $"The download of 'model.safetensors' from '{TinyBert}' broke off after 50000 of {file.Content.Length} bytes (", e.Message);
        Assert.EndsWith($"). Run the same command again to resume from {incomplete}.", e.Message);
        Assert.Equal(50_000, new FileInfo(incomplete).Length);
        Assert.Equal(file.Content.AsSpan(0, 50_000).ToArray(), await File.ReadAllBytesAsync(incomplete));
        Server.ClearRequests();

        string path = await Download(TinyBert, "model.safetensors", Options());

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(incomplete));
        Assert.Equal(["bytes=50000-"], Server.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).Select(r => r.Range));
    }

    [Fact]
    public async Task CorruptedDownload_IsDetectedBySha256_AndNothingIsCached()
    {
        var file = TinyBertRepo.Commits[MainCommit]["model.safetensors"];
        Server.Corrupt(file.Sha256);
        byte[] corrupted = (byte[])file.Content.Clone();
        corrupted[corrupted.Length / 2] ^= 0x5A;
        string actual = Convert.ToHexStringLower(SHA256.HashData(corrupted));

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Download(TinyBert, "model.safetensors", Options()));

        Assert.Equal(
            $"The download of 'model.safetensors' from '{TinyBert}' is corrupted: its sha256 is {actual} but the Hub's ETag says " +
            $"{file.Sha256}. The corrupted file was deleted; run again to download it afresh.",
            e.Message);
        string blobs = Path.Combine(Storage(TinyBert), "blobs");
        Assert.Empty(Directory.GetFiles(blobs));
        Assert.False(Directory.Exists(Path.Combine(Storage(TinyBert), "snapshots", MainCommit)) &&
                     Directory.GetFileSystemEntries(Path.Combine(Storage(TinyBert), "snapshots", MainCommit)).Length > 0);

        Server.Corrupt(file.Sha256, on: false);
        string path = await Download(TinyBert, "model.safetensors", Options());
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task RenamedRepository_RelativeRedirectIsFollowed_AndCachedUnderTheRequestedId()
    {
        Server.Rename("old-org/tiny-bert", TinyBert);

        string path = await Download("old-org/tiny-bert", "config.json", Options());

        Assert.Equal(Path.Combine(CacheDir, "models--old-org--tiny-bert", "snapshots", MainCommit, "config.json"), path);
        Assert.Equal(Fixture("tiny-bert", "config.json"), await File.ReadAllBytesAsync(path));
        Assert.Equal(
            [
                ("HEAD", "/old-org/tiny-bert/resolve/main/config.json"),
                ("HEAD", $"/{TinyBert}/resolve/main/config.json"),
                ("GET", $"/{TinyBert}/resolve/main/config.json"),
            ],
            Server.Requests.Select(r => (r.Method, r.Path)));
    }

    [Fact]
    public async Task FileNamesAndRevisionsAreUrlEscapedLikeHuggingfaceHub()
    {
        TinyBertRepo.AddCommit("pr", new Dictionary<string, byte[]> { ["sub dir/a+b.json"] = "{}"u8.ToArray() }, "refs/pr/1");

        string path = await Download(TinyBert, "sub dir/a+b.json", Options(revision: "refs/pr/1"));

        Assert.Equal("{}", await File.ReadAllTextAsync(path));
        Assert.Equal($"/{TinyBert}/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json", Server.Requests[0].Path);
        Assert.Equal(Path.Combine("..", "..", "..", "blobs", FakeFile.GitBlobSha1("{}"u8.ToArray())), new FileInfo(path).LinkTarget);
        Assert.True(File.Exists(Path.Combine(Storage(TinyBert), "refs", "refs", "pr", "1")));
    }

    [Fact]
    public async Task ForceDownload_DownloadsAgain()
    {
        await Download(TinyBert, "config.json", Options());
        Server.ClearRequests();

        await HubClient.Shared.DownloadFileAsync(TinyBert, "config.json", new HubOptions
        {
            Endpoint = Server.Endpoint,
            CacheDir = CacheDir,
            ForceDownload = true,
            Environment = HubEnvironment.FromVariables(new Dictionary<string, string>()),
            ShowProgress = false,
        });

        Assert.Equal(["HEAD", "GET"], Server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task ProgressBar_ReportsBytes()
    {
        var writer = new StringWriter();
        var options = new HubOptions
        {
            Endpoint = Server.Endpoint,
            CacheDir = CacheDir,
            Environment = HubEnvironment.FromVariables(new Dictionary<string, string>()),
            ProgressWriter = writer,
        };

        await HubClient.Shared.DownloadFileAsync(TinyBert, "model.safetensors", options);

        string last = writer.ToString().TrimEnd().Split('\n')[^1];
        Assert.StartsWith("model.safetensors: 100%|", last);
        Assert.Contains("203.6kB/203.6kB", last);
    }

    [Fact]
    public async Task ProgressBar_IsOffWithHfHubDisableProgressBars()
    {
        var writer = new StringWriter();
        var options = new HubOptions
        {
            Endpoint = Server.Endpoint,
            CacheDir = CacheDir,
            Environment = HubEnvironment.FromVariables(new Dictionary<string, string> { ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1" }),
            ProgressWriter = writer,
        };

        await HubClient.Shared.DownloadFileAsync(TinyBert, "model.safetensors", options);

        Assert.Equal("", writer.ToString());
    }
}
