namespace Sharpformers.Hub.Tests;

/// <summary>
/// Entry point used when the tests start this assembly as a separate process
/// (`dotnet Sharpformers.Hub.Tests.dll snapshot ENDPOINT CACHE REPO`), to prove that several
/// processes downloading into one cache at once stay consistent. Prints the snapshot folder.
/// </summary>
public static class HelperProgram
{
    public static int Main(string[] args)
    {
        if (args.Length != 4 || args[0] != "snapshot")
        {
            Console.Error.WriteLine("usage: snapshot ENDPOINT CACHE_DIR REPO_ID");
            return 2;
        }
        try
        {
            var options = new SnapshotDownloadOptions
            {
                Hub = new HubOptions
                {
                    Endpoint = args[1],
                    CacheDir = args[2],
                    Environment = HubEnvironment.FromVariables(new Dictionary<string, string>()),
                    ShowProgress = false,
                    RetryDelay = TimeSpan.Zero,
                },
            };
            string folder = HubClient.Shared.SnapshotDownloadAsync(args[3], options).GetAwaiter().GetResult();
            Console.WriteLine(folder);
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e}");
            return 1;
        }
    }
}
