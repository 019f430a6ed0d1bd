using System.Diagnostics;
using System.Security.Cryptography;

namespace Sharpformers.Hub.Tests;

public sealed class HubConcurrencyTests : HubTestBase
{
    [Fact]
    public async Task TwoProcessesDownloadingTheSameRepoAtOnce_BothSucceed_EachBlobIsDownloadedOnce()
    {
        // Slow CDN transfers so that the second process arrives while the first still holds the locks.
        Server.CdnChunkDelay = TimeSpan.FromMilliseconds(20);
        var first = StartHelper(TinyBert);
        var second = StartHelper(TinyBert);

        var results = await Task.WhenAll(WaitAsync(first), WaitAsync(second));

        foreach (var (exitCode, stdout, stderr) in results)
        {
            Assert.True(exitCode == 0, $"helper failed ({exitCode}): {stderr}");
            Assert.Equal(Path.Combine(Storage(TinyBert), "snapshots", MainCommit), stdout.Trim());
        }
        // Each file's content was fetched exactly once across both processes: the other waited for the
        // lock and found the blob, or found the finished snapshot entry.
        var contentRequests = Server.Requests.Where(r => r.Method == "GET" && !r.Path.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        Assert.Equal(contentRequests.Count, contentRequests.Select(r => r.Path).Distinct().Count());
        Assert.Equal(FixtureFiles("tiny-bert").Count, contentRequests.Count);
        AssertCacheConsistent(TinyBert, MainCommit, FixtureFiles("tiny-bert"));
    }

    [Fact]
    public async Task ThreadsInOneProcessDownloadingTheSameFile_ShareOneDownload()
    {
        Server.CdnChunkDelay = TimeSpan.FromMilliseconds(5);

        string[] paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Download(TinyBert, "model.safetensors", Options()))));

        Assert.Single(paths.Distinct());
        Assert.Single(Server.Requests, r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
        AssertCacheConsistent(TinyBert, MainCommit, new Dictionary<string, byte[]> { ["model.safetensors"] = Fixture("tiny-bert", "model.safetensors") });
    }

    [Fact]
    public async Task APythonProcessHoldingTheLock_IsWaitedFor_AndItsBlobIsUsed()
    {
        // Plays huggingface_hub: takes the same flock on .locks/models--org--name/<etag>.lock (as the
        // filelock package does), writes the blob, then releases. We must wait, then link its blob.
        var file = TinyBertRepo.Commits[MainCommit]["model.safetensors"];
        string lockPath = Path.Combine(CacheDir, ".locks", "models--sharpformers-test--tiny-bert", file.Sha256 + ".lock");
        string blobPath = Path.Combine(Storage(TinyBert), "blobs", file.Sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
        string source = Path.Combine(TestSupport.Fixtures.Model("tiny-bert"), "model.safetensors");
        string script =
            "import fcntl, os, shutil, sys, time\n" +
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n" +
            "fcntl.flock(fd, fcntl.LOCK_EX)\n" +
            "print('locked', flush=True)\n" +
            "time.sleep(1.0)\n" +
            "shutil.copyfile(sys.argv[2], sys.argv[3] + '.incomplete')\n" +
            "os.replace(sys.argv[3] + '.incomplete', sys.argv[3])\n" +
            "fcntl.flock(fd, fcntl.LOCK_UN)\n";
        var python = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList = { "-c", script, lockPath, source, blobPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Assert.Equal("locked", await python.StandardOutput.ReadLineAsync());

        string path = await Download(TinyBert, "model.safetensors", Options());

        await python.WaitForExitAsync();
        Assert.Equal(0, python.ExitCode);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        Assert.DoesNotContain(Server.Requests, r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
    }

    private void AssertCacheConsistent(string repoId, string commit, IReadOnlyDictionary<string, byte[]> files)
    {
        string storage = Storage(repoId);
        string blobs = Path.Combine(storage, "blobs");
        Assert.Empty(Directory.GetFiles(blobs, "*.incomplete"));
        var blobNames = Directory.GetFiles(blobs).Select(Path.GetFileName).ToHashSet();
        var expectedBlobs = new HashSet<string?>();
        foreach (var (name, bytes) in files)
        {
            string pointer = Path.Combine(storage, "snapshots", commit, name);
            var link = new FileInfo(pointer);
            Assert.NotNull(link.LinkTarget);
            string blob = Path.GetFileName(link.LinkTarget);
            expectedBlobs.Add(blob);
            Assert.Equal(bytes, File.ReadAllBytes(pointer));
            bool isLfs = FakeHub.FakeRepo.IsLfsName(name);
            Assert.Equal(isLfs ? Convert.ToHexStringLower(SHA256.HashData(bytes)) : FakeHub.FakeFile.GitBlobSha1(bytes), blob);
        }
        Assert.Equal(expectedBlobs, blobNames);
    }

    private Process StartHelper(string repoId)
    {
        string dll = typeof(HelperProgram).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            ArgumentList = { dll, "snapshot", Server.Endpoint, CacheDir, repoId },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("HF_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        return Process.Start(info)!;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> WaitAsync(Process process)
    {
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
