using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;

namespace Sharpformers.Training.Data;

/// <summary>
/// The Large Movie Review Dataset (Maas et al. 2011, "aclImdb") as Hugging Face's <c>imdb</c>
/// dataset presents it: columns <c>text</c> (the review file's content, unchanged, <c>&lt;br /&gt;</c>
/// included) and <c>label</c> (ClassLabel neg=0, pos=1), splits <c>train</c> and <c>test</c>.
/// Reads the extracted folder (<c>aclImdb/{train,test}/{pos,neg}/&lt;id&gt;_&lt;rating&gt;.txt</c>) or the
/// <c>aclImdb_v1.tar.gz</c> tarball directly, streaming through the gzip and tar layers without
/// extracting to disk. Order is deterministic and the same for both: all neg reviews, then all pos,
/// each by ordinal file name (0_3.txt, 10000_4.txt, 10001_4.txt, …), which is the tarball's own
/// order and so the order of HF's <c>imdb</c>. <c>unsup/</c>, <c>urls_*.txt</c> and <c>*.feat</c> are skipped.
/// </summary>
public static class AclImdb
{
    /// <summary>neg = 0, pos = 1, as HF's imdb.</summary>
    public static ClassLabel Labels { get; } = new(["neg", "pos"]);

    public static IReadOnlyList<string> SplitNames { get; } = ["train", "test"];

    /// <summary>Both splits from a folder or tarball.</summary>
    public static DatasetDict Load(string path)
    {
        var reviews = ReadReviews(path, splitFilter: null);
        return new DatasetDict(SplitNames.Select(s => new KeyValuePair<string, Dataset>(s, ToDataset(reviews, s, path))));
    }

    /// <summary>One split ("train" or "test") from a folder or tarball.</summary>
    public static Dataset Load(string path, string split)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (!SplitNames.Contains(split))
        {
            throw new ArgumentException($"aclImdb has the splits 'train' and 'test', not '{split}'.", nameof(split));
        }
        return ToDataset(ReadReviews(path, split), split, path);
    }

    /// <summary>True for a path ending in .tar.gz or .tgz (the tarball form).</summary>
    public static bool IsTarball(string path) =>
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The aclImdb root inside <paramref name="directory"/> (the folder itself when it holds train/ or
    /// test/ with pos/ and neg/, or its aclImdb/ subfolder), or null when it is not such a layout.
    /// </summary>
    public static string? FindRoot(string directory)
    {
        foreach (var candidate in new[] { directory, Path.Combine(directory, "aclImdb") })
        {
            if (SplitNames.Any(s => Directory.Exists(Path.Combine(candidate, s, "pos")) && Directory.Exists(Path.Combine(candidate, s, "neg"))))
            {
                return candidate;
            }
        }
        return null;
    }

    private static Dataset ToDataset(List<Review> reviews, string split, string path)
    {
        var selected = reviews.Where(r => r.Split == split)
            .OrderBy(r => r.Label)
            .ThenBy(r => r.FileName, StringComparer.Ordinal)
            .ToList();
        if (selected.Count == 0)
        {
            throw new InvalidDataException($"{path}: no reviews under {split}/pos or {split}/neg.");
        }
        return Dataset.FromColumns(
            [("text", DatasetColumn.Create(selected.Select(r => r.Text).ToArray())), ("label", DatasetColumn.Create(selected.Select(r => r.Label).ToArray()))],
            new Dictionary<string, FeatureType> { ["label"] = Labels });
    }

    private static List<Review> ReadReviews(string path, string? splitFilter)
    {
        if (File.Exists(path))
        {
            if (!IsTarball(path))
            {
                throw new InvalidDataException($"{path}: expected the aclImdb tarball (.tar.gz) or the aclImdb folder.");
            }
            return ReadTarball(path, splitFilter);
        }
        if (Directory.Exists(path))
        {
            string root = FindRoot(path)
                ?? throw new InvalidDataException($"{path}: not an aclImdb folder; expected train/pos, train/neg, test/pos, test/neg (or an aclImdb/ subfolder holding them).");
            return ReadFolder(root, splitFilter);
        }
        throw new FileNotFoundException($"aclImdb data not found: {path}", path);
    }

    private static List<Review> ReadFolder(string root, string? splitFilter)
    {
        var reviews = new List<Review>();
        foreach (var split in SplitNames.Where(s => splitFilter is null || s == splitFilter))
        {
            foreach (var (polarity, label) in new[] { ("neg", 0), ("pos", 1) })
            {
                string folder = Path.Combine(root, split, polarity);
                if (!Directory.Exists(folder))
                {
                    if (splitFilter is not null) throw new InvalidDataException($"{root}: missing folder {split}/{polarity}.");
                    continue;
                }
                foreach (var file in Directory.EnumerateFiles(folder, "*.txt"))
                {
                    string name = Path.GetFileName(file);
                    CheckFileName(name, file);
                    reviews.Add(new Review(split, label, name, DataFiles.DecodeUtf8(File.ReadAllBytes(file), file)));
                }
            }
        }
        return reviews;
    }

    private static List<Review> ReadTarball(string path, string? splitFilter)
    {
        var reviews = new List<Review>();
        InvalidDataException? badReview = null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip, leaveOpen: false);
            var buffer = new MemoryStream();
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                string[] parts = entry.Name.Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3) continue;
                string split = parts[^3];
                string polarity = parts[^2];
                string name = parts[^1];
                if (!SplitNames.Contains(split) || polarity is not ("pos" or "neg") || !name.EndsWith(".txt", StringComparison.Ordinal)) continue;
                if (splitFilter is not null && split != splitFilter) continue;
                buffer.SetLength(0);
                entry.DataStream?.CopyTo(buffer);
                string text;
                try
                {
                    CheckFileName(name, $"{path}:{entry.Name}");
                    text = DataFiles.DecodeUtf8(buffer.ToArray(), $"{Path.GetFileName(path)}:{entry.Name}");
                }
                catch (InvalidDataException e)
                {
                    badReview = e;
                    break;
                }
                reviews.Add(new Review(split, polarity == "pos" ? 1 : 0, name, text));
            }
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: not a readable aclImdb tarball ({e.Message}).", e);
        }
        // A bad review inside a readable tarball is already worded for the user: not wrapped again.
        if (badReview is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(badReview);
        return reviews;
    }

    private static void CheckFileName(string name, string where)
    {
        // <id>_<rating>.txt: neg reviews are rated 1-4, pos 7-10.
        string stem = name[..^4];
        int underscore = stem.IndexOf('_');
        if (underscore <= 0
            || !int.TryParse(stem.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            || !int.TryParse(stem.AsSpan(underscore + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int rating)
            || rating is < 0 or > 10)
        {
            throw new InvalidDataException($"{where}: expected a review file named <id>_<rating>.txt.");
        }
    }

    private sealed record Review(string Split, int Label, string FileName, string Text);

}
