using System.Text;
using Sharpformers.Utils;
using Sharpformers.TestSupport;

namespace Sharpformers.Hub.Tests;

public sealed class PretrainedFilesTests : HubTestBase
{
    [Fact]
    public void LocalFolder_IsUsedAsIs()
    {
        string folder = Fixtures.Model("tiny-bert");

        Assert.Equal(Path.Combine(folder, "vocab.txt"), PretrainedFiles.Resolve(folder, "vocab.txt"));
        Assert.Null(PretrainedFiles.Resolve(folder, "tokenizer.json", optional: true));
        Assert.Equal(0, Server.RequestCount);
    }

    [Fact]
    public void LocalFolder_MissingRequiredFile_SaysWhichFile()
    {
        string folder = Fixtures.Model("tiny-bert");

        var e = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.Resolve(folder, "tokenizer.json"));

        Assert.Equal($"The model folder '{folder}' has no file named 'tokenizer.json'.", e.Message);
    }

    [Fact]
    public void NeitherFolderNorRepoId_SaysSo()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => PretrainedFiles.Resolve("./no/such/folder", "config.json", Options()));

        Assert.Equal(
            "'./no/such/folder' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). Check the path, or give the repository's id.",
            e.Message);
    }

    [Fact]
    public void RepoId_IsDownloadedThroughTheCache_ThenServedOffline()
    {
        string online = PretrainedFiles.Resolve(TinyBert, "config.json", Options())!;
        int before = Server.RequestCount;

        string offline = PretrainedFiles.Resolve(TinyBert, "config.json", Options(offline: true))!;

        Assert.Equal(online, offline);
        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public void OptionalFileMissingOnTheHub_IsNull_AndTheAnswerIsCached()
    {
        Assert.Null(PretrainedFiles.Resolve(TinyBert, "tokenizer.json", Options(), optional: true));
        int before = Server.RequestCount;

        Assert.Null(PretrainedFiles.Resolve(TinyBert, "tokenizer.json", Options(), optional: true));

        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public void RequiredFileKnownMissing_Offline_SaysTheRepositoryHasNoSuchFile()
    {
        Assert.Null(PretrainedFiles.Resolve(TinyBert, "tokenizer.json", Options(), optional: true));

        var e = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.Resolve(TinyBert, "tokenizer.json", Options(offline: true)));

        Assert.Equal(
            $"Repository '{TinyBert}' has no file 'tokenizer.json' at revision 'main' (commit {MainCommit}, as recorded in the cache).",
            e.Message);
    }

    [Fact]
    public void OptionalFile_OfflineAndNotCached_IsNull_LikeTransformers()
    {
        Assert.Null(PretrainedFiles.Resolve(TinyBert, "tokenizer.json", Options(offline: true), optional: true));
        Assert.Equal(0, Server.RequestCount);
    }

    [Fact]
    public void ResolveCheckpoint_PrefersSafetensors()
    {
        var files = PretrainedFiles.ResolveCheckpoint(TinyBert, Options());

        Assert.Equal(CheckpointFormat.Safetensors, files.Format);
        Assert.False(files.IsSharded);
        Assert.EndsWith(Path.Combine("snapshots", MainCommit, "model.safetensors"), files.Path);
    }

    [Fact]
    public void ResolveCheckpoint_FallsBackToPytorchModelBin()
    {
        var files = PretrainedFiles.ResolveCheckpoint(TinyBertBin, Options());

        Assert.Equal(CheckpointFormat.PyTorch, files.Format);
        Assert.Equal(Fixture("tiny-bert-bin", "pytorch_model.bin"), File.ReadAllBytes(files.Path));
    }

    [Fact]
    public void ResolveCheckpoint_OfAShardedRepo_DownloadsTheIndexAndEveryShard()
    {
        var repo = new FakeHub.FakeRepo("sharpformers-test/sharded");
        repo.AddCommit("main", new Dictionary<string, byte[]>
        {
            ["config.json"] = "{}"u8.ToArray(),
            ["model.safetensors.index.json"] = Encoding.UTF8.GetBytes(
                "{\"metadata\": {\"total_size\": 8}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", " +
                "\"b\": \"model-00002-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"}}"),
            ["model-00001-of-00002.safetensors"] = [1, 2, 3, 4],
            ["model-00002-of-00002.safetensors"] = [5, 6, 7, 8],
        }, "main");
        Server.AddRepo(repo);

        var files = PretrainedFiles.ResolveCheckpoint(repo.Id, Options());

        Assert.Equal(CheckpointFormat.Safetensors, files.Format);
        Assert.True(files.IsSharded);
        Assert.EndsWith("model.safetensors.index.json", files.Path);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], files.ShardPaths.Select(Path.GetFileName));
        Assert.Equal(new byte[] { 5, 6, 7, 8 }, File.ReadAllBytes(files.ShardPaths[1]));
    }

    [Fact]
    public void ResolveCheckpoint_WithoutWeights_ListsWhatWasLookedFor()
    {
        string folder = Fixtures.Vocab("bert-base-uncased");

        var e = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.ResolveCheckpoint(folder));

        Assert.Equal(
            $"The model folder '{folder}' has no model weights: looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin and pytorch_model.bin.index.json.",
            e.Message);
    }

    [Fact]
    public void GitCloneWithoutLfs_PointerFileIsReportedWithTheFix()
    {
        string folder = Path.Combine(CacheDir, "clone");
        Directory.CreateDirectory(folder);
        string pointer = Path.Combine(folder, "model.safetensors");
        File.WriteAllText(pointer,
            "version https://git-lfs.github.com/spec/v1\noid sha256:3c16c1016c445b528c6f360efe1be1a87f35f3589f72ff14006b8d8747c98c96\nsize 203604\n");

        var e = Assert.Throws<InvalidDataException>(() => PretrainedFiles.ResolveCheckpoint(folder));

        Assert.Equal(
            $"'{pointer}' is a Git LFS pointer file, not the file's content (the real file is 203604 bytes, " +
            "sha256:3c16c1016c445b528c6f360efe1be1a87f35f3589f72ff14006b8d8747c98c96): the repository was cloned without Git LFS. " +
            "Run `git lfs install && git lfs pull` inside the clone, or download the model with `sharpformers download REPO_ID` instead of git.",
            e.Message);
    }

    [Fact]
    public void ResolveFolder_OfARepoId_FetchesTheFilesItHasIntoOneSnapshot()
    {
        string folder = PretrainedFiles.ResolveFolder(TinyBert, ["tokenizer_config.json", "tokenizer.json", "vocab.txt", "spiece.model"], Options());

        Assert.Equal(Path.Combine(Storage(TinyBert), "snapshots", MainCommit), folder);
        Assert.Equal(["tokenizer_config.json", "vocab.txt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        int before = Server.RequestCount;
        Assert.Equal(folder, PretrainedFiles.ResolveFolder(TinyBert, ["tokenizer_config.json", "tokenizer.json", "vocab.txt", "spiece.model"], Options(offline: true)));
        Assert.Equal(before, Server.RequestCount);
    }

    [Fact]
    public void ResolveFolder_OfALocalFolder_ChecksTheFilesForLfsPointers()
    {
        string folder = Path.Combine(CacheDir, "clone");
        Directory.CreateDirectory(folder);
        string vocab = Path.Combine(folder, "vocab.txt");
        File.WriteAllText(vocab, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 5009\n");

        var e = Assert.Throws<InvalidDataException>(() => PretrainedFiles.ResolveFolder(folder, ["tokenizer.json", "vocab.txt"]));

        Assert.StartsWith($"'{vocab}' is a Git LFS pointer file, not the file's content (the real file is 5009 bytes, sha256:abc)", e.Message);
    }

    [Fact]
    public void ResolveFolder_OfARepoWithNoneOfTheFiles_SaysWhichWereLookedFor()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.ResolveFolder(TinyBert, ["tokenizer.json", "spiece.model"], Options()));

        Assert.Equal($"Repository '{TinyBert}' (revision 'main') has none of the files looked for: tokenizer.json, spiece.model.", e.Message);
    }

    [Fact]
    public void AFileIsNeitherAFolderNorARepoId()
    {
        string file = Path.Combine(Fixtures.Model("tiny-bert"), "config.json");

        var e = Assert.Throws<ArgumentException>(() => PretrainedFiles.Resolve(file, "config.json", Options()));

        Assert.Equal($"'{file}' is a file; expected the folder that holds the model's files (config.json, weights, tokenizer files), or a Hub repo id ('org/name').", e.Message);
    }

    [Fact]
    public void RepoIdTheHubDoesNotKnow_SaysItWasNotAFolderEither()
    {
        var e = Assert.Throws<RepositoryNotFoundException>(() => PretrainedFiles.Resolve("models/tiny-bert", "config.json", Options()));

        Assert.StartsWith(
            $"'models/tiny-bert' is not a folder on disk, so it was taken as a Hub repo id: Repository 'models/tiny-bert' was not found on {Server.Endpoint}",
            e.Message);
    }

    [Fact]
    public void ResolveCheckpoint_OfARepoMissingAShard_NamesTheIndexAndTheShard()
    {
        var repo = new FakeHub.FakeRepo("sharpformers-test/incomplete");
        repo.AddCommit("main", new Dictionary<string, byte[]>
        {
            ["model.safetensors.index.json"] = Encoding.UTF8.GetBytes(
                "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}}"),
            ["model-00001-of-00002.safetensors"] = [1, 2, 3, 4],
        }, "main");
        Server.AddRepo(repo);

        var e = Assert.Throws<FileNotFoundException>(() => PretrainedFiles.ResolveCheckpoint(repo.Id, Options()));

        string commit = repo.Refs["main"];
        string index = Path.Combine(Storage(repo.Id), "snapshots", commit, "model.safetensors.index.json");
        Assert.Equal(
            $"The sharded checkpoint index '{index}' lists the shard 'model-00002-of-00002.safetensors', but repository '{repo.Id}' has no such file " +
            "at revision 'main': the repository is incomplete.",
            e.Message);
    }

    [Fact]
    public void LfsPointerCheck_IgnoresRealFilesThatStartDifferently_AndLargeFiles()
    {
        string dir = Path.Combine(CacheDir, "lfs");
        Directory.CreateDirectory(dir);
        string json = Path.Combine(dir, "config.json");
        File.WriteAllText(json, "{\"version\": \"https://git-lfs\"}");
        string big = Path.Combine(dir, "big.txt");
        File.WriteAllText(big, "version https://git-lfs.github.com/spec/v1\n" + new string('x', 2000));

        Sharpformers.Utils.LfsPointer.ThrowIfPointer(json);
        Sharpformers.Utils.LfsPointer.ThrowIfPointer(big);
        Assert.False(Sharpformers.Utils.LfsPointer.IsPointer(json));
        Assert.False(Sharpformers.Utils.LfsPointer.IsPointer(big));
    }
}
