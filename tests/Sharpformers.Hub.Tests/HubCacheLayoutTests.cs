using System.Text;
using Sharpformers.TestSupport;

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
    public async Task DocumentedTree_IsExactlyWhatADownloadWrites()
    {
        // docs/hub.md shows what `sharpformers download sharpformers-test/tiny-bert` (a snapshot download)
        // writes, after an optional lookup of tokenizer.json found the repo has none.
        await HubClient.Shared.SnapshotDownloadAsync(TinyBert, new SnapshotDownloadOptions { Hub = Options() });
        await PretrainedFiles.ResolveAsync(TinyBert, "tokenizer.json", Options(), optional: true);
        var (documented, elided) = DocumentedTree(File.ReadAllLines(Path.Combine(Fixtures.RepoRoot, "docs", "hub.md")));
        var actual = ListTree(CacheDir);

        Assert.Equal(14, documented.Count); // the parse found the whole tree: 2 locks, a marker, 5 blobs, a ref, 5 links
        Assert.Empty(documented.Except(actual));
        Assert.Equal([".locks/models--sharpformers-test--tiny-bert/"], elided);
        Assert.All(actual.Except(documented), entry => Assert.StartsWith(elided[0], entry));
        Assert.Equal(5, actual.Count(e => e.StartsWith(elided[0], StringComparison.Ordinal)));
        Assert.StartsWith("7f700370", MainCommit);
        Assert.EndsWith("4b56", MainCommit);
        Assert.Equal(0, new FileInfo(Path.Combine(Storage(TinyBert), ".no_exist", MainCommit, "tokenizer.json")).Length);
    }

    /// <summary>
    /// The entries of the tree drawn under "## The cache layout" (files as "dir/name", links as "dir/name -> target"),
    /// and the folders whose listing ends with "…" (entries not spelled out).
    /// </summary>
    private static (List<string> Entries, List<string> Elided) DocumentedTree(string[] lines)
    {
        int start = Array.FindIndex(lines, l => l == "## The cache layout");
        int open = Array.FindIndex(lines, start, l => l == "```");
        int close = Array.FindIndex(lines, open + 1, l => l == "```");
        var entries = new List<string>();
        var elided = new List<string>();
        var folders = new List<string>();
        for (int i = open + 2; i < close; i++)
        {
            string line = lines[i];
            int marker = line.IndexOf("── ", StringComparison.Ordinal);
            int depth = (marker - 1) / 4;
            string text = line[(marker + 3)..];
            int note = text.IndexOf("   ", StringComparison.Ordinal);
            string name = (note < 0 ? text : text[..note]).Trim();
            folders.RemoveRange(depth, folders.Count - depth);
            string parent = string.Concat(folders);
            if (name.StartsWith('…')) elided.Add(parent);
            else if (name.EndsWith('/')) folders.Add(name);
            else entries.Add(parent + name);
        }
        return (entries, elided);
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
