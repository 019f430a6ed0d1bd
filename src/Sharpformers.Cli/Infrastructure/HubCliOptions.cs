using Sharpformers.Hub;

namespace Sharpformers.Cli.Infrastructure;

/// <summary>
/// The options every command that loads a model or tokenizer by folder or Hub repo id takes, named as
/// from_pretrained's keyword arguments (revision=, cache_dir=, local_files_only=, token=) and as
/// `sharpformers download` spells them.
/// </summary>
public static class HubCliOptions
{
    public static IReadOnlyList<CliOption> Options { get; } =
    [
        new("revision", "R", "Branch, tag or commit hash when --model is a Hub repo id (default: main)."),
        new("cache-dir", "DIR", "Hugging Face cache folder (default: $HF_HUB_CACHE or ~/.cache/huggingface/hub)."),
        new("local-files-only", null, "Use only a folder or the cache; never the network (like HF_HUB_OFFLINE=1)."),
        new("token", "T", "Hugging Face token for private or gated repositories (default: $HF_TOKEN or the saved login)."),
        new("endpoint", "URL", "Hub address (default: $HF_ENDPOINT or https://huggingface.co)."),
    ];

    /// <summary>The Hub settings the command line gives; download progress goes to the command's standard error.</summary>
    public static HubOptions Read(ParsedArguments args, CliContext context) => new()
    {
        Revision = args.Get("revision"),
        CacheDir = args.Get("cache-dir"),
        LocalFilesOnly = args.Flag("local-files-only"),
        Token = args.Get("token"),
        Endpoint = args.Get("endpoint"),
        ProgressWriter = context.Error,
    };
}
