using System.Text.Json;
using Sharpformers.Cli.Infrastructure;
using Sharpformers.Training.Data;

namespace Sharpformers.Cli.Commands.Bench;

/// <summary>The real-data inputs of the tokenizer and real-data workloads.</summary>
public static class BenchData
{
    public static CliOption DataOption { get; } =
        new("data", "FILE", "tokenizer/real-data: the IMDb tarball or extracted folder (its 25,000 test reviews; default ../shared/datasets/imdb/aclImdb_v1.tar.gz) or a text file, one text a line");

    public static CliOption LimitOption { get; } =
        new("limit", "N", "tokenizer/real-data: use N texts spread evenly over the data (default: all)");

    /// <summary>The texts of --data (IMDb test reviews in the dataset's order, or lines), cut to --limit.</summary>
    public static List<string> Texts(ParsedArguments args)
    {
        string path = args.Get("data") ?? DefaultImdb();
        List<string> texts;
        if (AclImdb.IsTarball(path) || Directory.Exists(path))
        {
            texts = [.. AclImdb.Load(path, "test").Column<string>("text")];
        }
        else if (File.Exists(path))
        {
            texts = [.. File.ReadLines(path).Where(l => l.Length > 0)];
        }
        else
        {
            throw new FileNotFoundException($"--data '{path}' does not exist", path);
        }
        return Limit(texts, args.GetInt("limit", min: 1));
    }

    /// <summary>
    /// Rows of input_ids from JSON lines (what `sharpformers tokenize` writes and real_data_torch.py reads),
    /// cut to --limit.
    /// </summary>
    public static List<int[]> IdLines(string path, int? limit)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--ids '{path}' does not exist", path);
        var rows = new List<int[]>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                if (!document.RootElement.TryGetProperty("input_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidDataException($"{path} line {lineNumber}: expected an object with an \"input_ids\" array");
                }
                rows.Add([.. ids.EnumerateArray().Select(v => v.GetInt32())]);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} line {lineNumber}: not valid JSON ({e.Message})");
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{path} line {lineNumber}: \"input_ids\" must hold integers");
            }
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no input_ids lines");
        return Limit(rows, limit);
    }

    /// <summary>n items spread evenly over the list (all of them without a limit), in order.</summary>
    public static List<T> Limit<T>(List<T> items, int? limit)
    {
        if (limit is not int n || n >= items.Count) return items;
        var picked = new List<T>(n);
        for (int i = 0; i < n; i++) picked.Add(items[(int)((long)i * items.Count / n)]);
        return picked;
    }

    private static string DefaultImdb()
    {
        foreach (string candidate in new[] { "../shared/datasets/imdb/aclImdb_v1.tar.gz", "../../shared/datasets/imdb/aclImdb_v1.tar.gz", "/work/shared/datasets/imdb/aclImdb_v1.tar.gz" })
        {
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        throw new CliUsageException("no IMDb data: pass --data FILE (e.g. ../shared/datasets/imdb/aclImdb_v1.tar.gz)");
    }
}
