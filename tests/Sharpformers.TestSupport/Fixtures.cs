namespace Sharpformers.TestSupport;

/// <summary>
/// Locates test data. The small fixtures live in the repo (tests/fixtures, copied from ../shared by
/// tests/fixtures/refresh-from-shared.sh) so the default test run needs nothing beside the clone.
/// Large data (datasets) is read from the shared folder, which only the dataset tier requires.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding Sharpformers.slnx).</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>tests/fixtures inside the repository.</summary>
    public static string Root => Path.Combine(RepoRoot, "tests", "fixtures");

    /// <summary>A tiny Hugging Face model folder, e.g. "tiny-bert".</summary>
    public static string Model(string name) => Path.Combine(Root, "models", name);

    /// <summary>A real tokenizer vocabulary folder, e.g. "bert-base-uncased".</summary>
    public static string Vocab(string name) => Path.Combine(Root, "vocab", name);

    /// <summary>A small data file under tests/fixtures/datasets, e.g. "sst2/train-first-512.tsv".</summary>
    public static string Dataset(string relativePath) => Path.Combine(Root, "datasets", relativePath);

    /// <summary>A file under tests/fixtures/tokenizer-cases.</summary>
    public static string TokenizerCase(string fileName) => Path.Combine(Root, "tokenizer-cases", fileName);

    /// <summary>
    /// The shared data folder (../shared beside the clone, or $SHARPFORMERS_SHARED_DIR), or null when
    /// absent. Tests that need it are in the dataset tier and skip themselves when it is null.
    /// </summary>
    public static string? SharedDir
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("SHARPFORMERS_SHARED_DIR");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
            }
            var beside = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            return Directory.Exists(beside) ? beside : null;
        }
    }

    /// <summary>
    /// True when the dataset tier is enabled (SHARPFORMERS_DATASET_TESTS=1, set by .ci/run) and the
    /// shared folder exists. Whole-dataset tests are slow, so a plain `dotnet test` skips them.
    /// </summary>
    public static bool DatasetTierEnabled =>
        Environment.GetEnvironmentVariable("SHARPFORMERS_DATASET_TESTS") == "1" && SharedDir is not null;

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sharpformers.slnx")))
            {
                return dir.FullName;
            }
            dir = dir.Parent;
        }
        throw new InvalidOperationException(
            $"Cannot find the repository root (Sharpformers.slnx) above {AppContext.BaseDirectory}.");
    }
}
