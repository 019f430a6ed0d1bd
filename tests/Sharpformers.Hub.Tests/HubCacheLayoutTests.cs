using System.Text;

namespace Sharpformers.Hub.Tests;

/// <summary>
/// The cache must be byte-for-byte what Python's huggingface_hub writes and reads, so the two share
/// downloads in both directions. These tests pin the exact names, contents and symlink targets.
/// </summary>
public sealed class HubCacheLayoutTests : HubTestBase
{
    [Fact]
    public async Task CacheWrittenBySharpformers_HasHuggingfaceHubsExactLayout()
    {
        await HubClient.Shared.SnapshotDownloadAsync(TinyBert, new SnapshotDownloadOptions { Hub = Options() });
        await PretrainedFiles.ResolveAsync(TinyBert, "tokenizer.json", Options(), optional: true);
        await Download(TinyBert, "config.json", Options(revision: "v1"));

        var files = TinyBertRepo.Commits[MainCommit];
        string v1Config = TinyBertRepo.Commits[V1Commit]["config.json"].GitSha1;
        const string repo = "models--sharpformers-test--tiny-bert";
        var expected = new List<string>();
        foreach (var file in files.Values.Select(f => f.Etag).Append(v1Config)) expected.Add($".locks/{repo}/{file}.lock");
        expected.Add($"{repo}/.no_exist/{MainCommit}/tokenizer.json");
        foreach (var file in files.Values.Select(f => f.Etag).Append(v1Config)) expected.Add($"{repo}/blobs/{file}");
        expected.Add($"{repo}/refs/main");
        expected.Add($"{repo}/refs/v1");
        foreach (var (name, file) in files) expected.Add($"{repo}/snapshots/{MainCommit}/{name} -> ../../blobs/{file.Etag}");
        expected.Add($"{repo}/snapshots/{V1Commit}/config.json -> ../../blobs/{v1Config}");

        Assert.Equal(expected.Order(StringComparer.Ordinal), ListTree(CacheDir));
        Assert.Equal(MainCommit, Encoding.ASCII.GetString(await File.ReadAllBytesAsync(Path.Combine(CacheDir, repo, "refs", "main"))));
        Assert.Equal(V1Commit, Encoding.ASCII.GetString(await File.ReadAllBytesAsync(Path.Combine(CacheDir, repo, "refs", "v1"))));
    }

    [Fact]
    public async Task CacheWrittenByPython_IsReadOffline_IncludingNestedFilesAndCopiedEntries()
    {
        // Exactly what huggingface_hub leaves after hf_hub_download of three files of "org/model":
        // a nested file links with one more "../"; a Windows machine without symlinks stores copies.
        const string commit = "0123456789abcdef0123456789abcdef01234567";
        string storage = Path.Combine(CacheDir, "models--org--model");
        Directory.CreateDirectory(Path.Combine(storage, "blobs"));
        Directory.CreateDirectory(Path.Combine(storage, "refs"));
        Directory.CreateDirectory(Path.Combine(storage, "snapshots", commit, "onnx"));
        await File.WriteAllTextAsync(Path.Combine(storage, "refs", "main"), commit);
        await File.WriteAllTextAsync(Path.Combine(storage, "blobs", "aaaa"), "{\"a\": 1}");
        await File.WriteAllTextAsync(Path.Combine(storage, "blobs", "bbbb"), "onnx bytes");
        File.CreateSymbolicLink(Path.Combine(storage, "snapshots", commit, "config.json"), "../../blobs/aaaa");
        File.CreateSymbolicLink(Path.Combine(storage, "snapshots", commit, "onnx", "model.onnx"), "../../../blobs/bbbb");
        await File.WriteAllTextAsync(Path.Combine(storage, "snapshots", commit, "vocab.txt"), "[PAD]\n");
        Directory.CreateDirectory(Path.Combine(storage, ".no_exist", commit));
        await File.WriteAllBytesAsync(Path.Combine(storage, ".no_exist", commit, "tokenizer.json"), []);

        var offline = Options(offline: true);
        Assert.Equal("{\"a\": 1}", await File.ReadAllTextAsync(await Download("org/model", "config.json", offline)));
        Assert.Equal("onnx bytes", await File.ReadAllTextAsync(await Download("org/model", "onnx/model.onnx", offline)));
        Assert.Equal("[PAD]\n", await File.ReadAllTextAsync(await Download("org/model", "vocab.txt", Options(revision: commit, offline: true))));
        Assert.Null(await PretrainedFiles.ResolveAsync("org/model", "tokenizer.json", offline, optional: true));
        Assert.Equal(Path.Combine(storage, "snapshots", commit),
            await HubClient.Shared.SnapshotDownloadAsync("org/model", new SnapshotDownloadOptions { Hub = offline }));
        Assert.Equal(0, Server.RequestCount);
    }

    [Fact]
    public void RepoFolderNames_MatchHuggingfaceHub()
    {
        Assert.Equal("models--bert-base-uncased", HubCache.RepoFolderName("bert-base-uncased"));
        Assert.Equal("models--google-bert--bert-base-uncased", HubCache.RepoFolderName("google-bert/bert-base-uncased"));
        Assert.Equal("datasets--stanfordnlp--sst2", HubCache.RepoFolderName("stanfordnlp/sst2", HubRepoType.Dataset));
        Assert.Equal("spaces--org--demo", HubCache.RepoFolderName("org/demo", HubRepoType.Space));
        var cache = new HubCache("/c");
        Assert.Equal(Path.Combine("/c", ".locks", "models--org--name", "abc.lock"), cache.LockPath("org/name", HubRepoType.Model, "abc"));
    }

    /// <summary>Every file under <paramref name="root"/>, relative with '/', symlinks shown as "path -> target".</summary>
    public static List<string> ListTree(string root)
    {
        var lines = new List<string>();
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is null && Directory.Exists(path)) continue;
            string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            lines.Add(info.LinkTarget is { } target ? $"{relative} -> {target.Replace('\\', '/')}" : relative);
        }
        return lines.Order(StringComparer.Ordinal).ToList();
    }
}
