using System.Diagnostics;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Hub.Tests.FakeHub;
using Sharpformers.TestSupport;

namespace Sharpformers.Cli.Tests;

public sealed class DownloadCommandTests : IAsyncLifetime
{
    private const string Repo = "sharpformers-test/tiny-bert";
    private readonly string cacheDir = Path.Combine(Path.GetTempPath(), "sharpformers-cli-download", Guid.NewGuid().ToString("N"));
    private FakeHubServer server = null!;
    private string commit = "";

    public async Task InitializeAsync()
    {
        server = await FakeHubServer.StartAsync();
        var repo = new FakeRepo(Repo);
        commit = repo.AddCommit("main", Directory.GetFiles(Fixtures.Model("tiny-bert")).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes), "main");
        server.AddRepo(repo);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        if (Directory.Exists(cacheDir)) Directory.Delete(cacheDir, recursive: true);
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CliApp(CommandRegistry.All()).Run(args, new CliContext { In = TextReader.Null, Out = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Snapshot => Path.Combine(cacheDir, "models--sharpformers-test--tiny-bert", "snapshots", commit);

    [Fact]
    public void DownloadsTheRepository_AndPrintsTheSnapshotFolder()
    {
        var (code, stdout, stderr) = Run("download", Repo, "--cache-dir", cacheDir, "--endpoint", server.Endpoint, "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Equal(Snapshot + Environment.NewLine, stdout);
        Assert.Equal(5, Directory.GetFiles(Snapshot).Length);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void OneFileName_PrintsThatFile()
    {
        var (code, stdout, _) = Run("download", Repo, "config.json", "--cache-dir", cacheDir, "--endpoint", server.Endpoint, "--quiet");

        Assert.Equal(0, code);
        Assert.Equal(Path.Combine(Snapshot, "config.json") + Environment.NewLine, stdout);
    }

    [Fact]
    public void IncludeAndExclude_FilterTheFiles()
    {
        var (code, _, _) = Run("download", Repo, "--include", "*.json", "--include", "*.txt", "--exclude", "special_*",
            "--cache-dir", cacheDir, "--endpoint", server.Endpoint, "--quiet");

        Assert.Equal(0, code);
        Assert.Equal(["config.json", "tokenizer_config.json", "vocab.txt"], Directory.GetFiles(Snapshot).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ProgressGoesToStandardError()
    {
        var (code, stdout, stderr) = Run("download", Repo, "model.safetensors", "--cache-dir", cacheDir, "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Single(stdout.Trim().Split('\n'));
        Assert.StartsWith("model.safetensors: 100%|", stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void MissingRepository_IsOneErrorLine()
    {
        var (code, stdout, stderr) = Run("download", "nobody/nothing", "--cache-dir", cacheDir, "--endpoint", server.Endpoint);

        Assert.Equal(CliApp.RuntimeError, code);
        Assert.Equal("", stdout);
        Assert.Equal(
            $"error: Repository 'nobody/nothing' was not found on {server.Endpoint} (HTTP 401 for {server.Endpoint}/api/models/nobody/nothing/revision/main). " +
            "Check the repo id ('org/name'); if the repository is private or gated, pass a token that can read it " +
            "(HubOptions.Token, --token, the HF_TOKEN variable or `huggingface-cli login`)." + Environment.NewLine,
            stderr);
    }

    [Fact]
    public void LocalFilesOnly_NotCached_IsOneErrorLine()
    {
        var (code, _, stderr) = Run("download", Repo, "--cache-dir", cacheDir, "--local-files-only");

        Assert.Equal(CliApp.RuntimeError, code);
        Assert.StartsWith($"error: No snapshot of '{Repo}' for revision 'main' is in the cache {cacheDir}", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void MissingRepoId_IsAUsageError()
    {
        var (code, _, stderr) = Run("download");

        Assert.Equal(CliApp.UsageError, code);
        Assert.StartsWith("error: missing REPO_ID (e.g. google-bert/bert-base-uncased)", stderr);
    }

    [Fact]
    public async Task TheBuiltTool_HonoursHfHubOfflineAndHfEndpointFromTheEnvironment()
    {
        Assert.Equal(0, Run("download", Repo, "--cache-dir", cacheDir, "--endpoint", server.Endpoint, "--quiet").Code);
        int before = server.RequestCount;

        string dll = Path.Combine(AppContext.BaseDirectory, "sharpformers.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(dotnet) { ArgumentList = { dll, "download", Repo }, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("HF_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        info.Environment["HF_HUB_CACHE"] = cacheDir;
        info.Environment["HF_ENDPOINT"] = server.Endpoint;
        info.Environment["HF_HUB_OFFLINE"] = "1";
        using var process = Process.Start(info)!;
        string stdout = await process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, stderr);
        Assert.Equal(Snapshot, stdout.Trim());
        Assert.Equal(before, server.RequestCount);
    }
}
