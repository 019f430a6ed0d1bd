using Sharpformers.Cli.Infrastructure;
using Sharpformers.Hub;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers download REPO_ID [FILENAME ...]`, like `huggingface-cli download`: fills the shared
/// Hugging Face cache and prints where the files are (the snapshot folder, or the file when one
/// file was asked for).
/// </summary>
public sealed class DownloadCommand : ICliCommand
{
    public string Name => "download";

    public string Summary => "Download a model repository (or some of its files) into the Hugging Face cache and print its path.";

    public string Usage => "REPO_ID [FILENAME ...] [--revision R] [--include GLOB ...] [--exclude GLOB ...] [--cache-dir DIR] [--token T]";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("revision", "R", "Branch, tag or commit hash to download (default: main)."),
        new("include", "GLOB", "Only files matching this pattern, e.g. \"*.json\" (repeatable).", Repeatable: true),
        new("exclude", "GLOB", "Skip files matching this pattern, e.g. \"*.bin\" (repeatable).", Repeatable: true),
        new("cache-dir", "DIR", "Cache folder (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)."),
        new("token", "T", "Hugging Face token for private or gated repositories (default: $HF_TOKEN or the saved login)."),
        new("endpoint", "URL", "Hub address (default: $HF_ENDPOINT or https://huggingface.co)."),
        new("local-files-only", null, "Do not use the network: print the cached path or fail."),
        new("quiet", null, "No progress bars; print only the path."),
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        if (args.Positionals.Count == 0) throw new CliUsageException("missing REPO_ID (e.g. google-bert/bert-base-uncased)");
        string repoId = args.Positionals[0];
        var files = args.Positionals.Skip(1).ToList();
        var include = args.GetAll("include");
        if (files.Count > 0 && include.Count > 0)
        {
            throw new CliUsageException("give either FILENAME arguments or --include patterns, not both");
        }
        var hub = new HubOptions
        {
            Revision = args.Get("revision"),
            CacheDir = args.Get("cache-dir"),
            Token = args.Get("token"),
            Endpoint = args.Get("endpoint"),
            LocalFilesOnly = args.Flag("local-files-only"),
            ShowProgress = args.Flag("quiet") ? false : null,
            ProgressWriter = context.Error,
        };

        string path = files.Count == 1
            ? HubClient.Shared.DownloadFileAsync(repoId, files[0], hub).GetAwaiter().GetResult()
            : HubClient.Shared.SnapshotDownloadAsync(repoId, new SnapshotDownloadOptions
            {
                Hub = hub,
                AllowPatterns = files.Count > 0 ? files : include,
                IgnorePatterns = args.GetAll("exclude"),
            }).GetAwaiter().GetResult();
        context.Out.WriteLine(path);
        return CliApp.Success;
    }
}
