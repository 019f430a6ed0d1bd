namespace Sharpformers.Training.Data;

/// <summary>
/// The data side of <c>sharpformers train/evaluate</c>: one call that turns "a TSV/CSV/JSONL file, a
/// folder of split files, an aclImdb folder or the aclImdb tarball" into a dataset with the
/// standard columns <see cref="TextColumn"/> ("text"), <see cref="TextPairColumn"/> ("text_pair",
/// only for sentence pairs) and <see cref="LabelColumn"/> ("label": a ClassLabel column, or floats
/// for regression; absent for unlabelled data such as SST-2's test.tsv). Other columns are dropped.
/// </summary>
public static class DataSource
{
    public const string TextColumn = "text";
    public const string TextPairColumn = "text_pair";
    public const string LabelColumn = "label";

    /// <summary>Text columns tried, in order, when none is named.</summary>
    public static IReadOnlyList<string> TextColumnCandidates { get; } = ["text", "sentence", "text_a", "sentence1", "review", "content", "question"];

    /// <summary>Label columns tried, in order, when none is named.</summary>
    public static IReadOnlyList<string> LabelColumnCandidates { get; } = ["label", "labels"];

    private static readonly Dictionary<string, string> PairPartners = new(StringComparer.Ordinal)
    {
        ["text_a"] = "text_b",
        ["sentence1"] = "sentence2",
        ["question"] = "sentence",
    };

    private static readonly Dictionary<string, string[]> SplitFileStems = new(StringComparer.Ordinal)
    {
        ["train"] = ["train"],
        ["validation"] = ["validation", "dev", "valid", "val"],
        ["dev"] = ["dev", "validation", "valid", "val"],
        ["test"] = ["test"],
    };

    /// <summary>
    /// Loads one split of labelled (or unlabelled) text data.
    /// </summary>
    /// <param name="fileOrDirectory">A .tsv/.csv/.txt/.jsonl/.json file; an aclImdb folder or aclImdb_v1.tar.gz;
    /// or a folder holding split files (train.tsv, dev.tsv or validation.tsv, test.tsv, …).</param>
    /// <param name="split">"train", "test", "validation"/"dev": required for aclImdb and split folders; a
    /// single file is one split and accepts any name or none.</param>
    /// <param name="textColumn">The text column; by default the first of <see cref="TextColumnCandidates"/> present.</param>
    /// <param name="textPairColumn">The second text of a pair; by default text_b / sentence2 when the text column is text_a / sentence1.</param>
    /// <param name="labelColumn">The label column; by default "label" or "labels" when present (else unlabelled).</param>
    /// <param name="labels">Class names in id order (e.g. ["negative", "positive"]): label cells may then be
    /// names or ids, checked against them. For aclImdb they rename neg/pos.</param>
    public static Dataset Load(string fileOrDirectory, string? split = null, string? textColumn = null, string? textPairColumn = null,
        string? labelColumn = null, IReadOnlyList<string>? labels = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileOrDirectory);
        if (File.Exists(fileOrDirectory) && AclImdb.IsTarball(fileOrDirectory))
        {
            return FromAclImdb(fileOrDirectory, split, textColumn, textPairColumn, labelColumn, labels);
        }
        if (Directory.Exists(fileOrDirectory))
        {
            if (AclImdb.FindRoot(fileOrDirectory) is { } root)
            {
                return FromAclImdb(root, split, textColumn, textPairColumn, labelColumn, labels);
            }
            return LoadFile(SplitFile(fileOrDirectory, split), textColumn, textPairColumn, labelColumn, labels);
        }
        if (File.Exists(fileOrDirectory))
        {
            return LoadFile(fileOrDirectory, textColumn, textPairColumn, labelColumn, labels);
        }
        throw new FileNotFoundException($"Data not found: {fileOrDirectory} (expected a data file, an aclImdb folder or tarball, or a folder of split files).", fileOrDirectory);
    }

    /// <summary>The splits a source offers (["train", "test"] for aclImdb; the split files of a folder; [] for one file).</summary>
    public static IReadOnlyList<string> AvailableSplits(string fileOrDirectory)
    {
        if (File.Exists(fileOrDirectory))
        {
            return AclImdb.IsTarball(fileOrDirectory) ? AclImdb.SplitNames : [];
        }
        if (!Directory.Exists(fileOrDirectory))
        {
            throw new FileNotFoundException($"Data not found: {fileOrDirectory}", fileOrDirectory);
        }
        if (AclImdb.FindRoot(fileOrDirectory) is { } root)
        {
            return AclImdb.SplitNames.Where(s => Directory.Exists(Path.Combine(root, s))).ToList();
        }
        return Directory.EnumerateFiles(fileOrDirectory)
            .Where(DataFiles.IsSupported)
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static Dataset FromAclImdb(string path, string? split, string? textColumn, string? textPairColumn, string? labelColumn, IReadOnlyList<string>? labels)
    {
        if (split is null)
        {
            throw new ArgumentException($"{path} is the aclImdb dataset with the splits 'train' and 'test'; choose one (--split train|test).", nameof(split));
        }
        if (textPairColumn is not null)
        {
            throw new ArgumentException($"{path}: aclImdb reviews are single texts; it has no text-pair column.", nameof(textPairColumn));
        }
        CheckNamed(textColumn, [TextColumn], path, "text");
        CheckNamed(labelColumn, [LabelColumn], path, "label");
        var dataset = AclImdb.Load(path, split);
        if (labels is not null)
        {
            if (labels.Count != 2)
            {
                throw new ArgumentException($"aclImdb has 2 classes (neg, pos); {labels.Count} label names were given ({string.Join(",", labels)}).", nameof(labels));
            }
            dataset = dataset.CastColumn(LabelColumn, new ClassLabel(labels));
        }
        return dataset;
    }

    private static void CheckNamed(string? given, IReadOnlyList<string> available, string path, string what)
    {
        if (given is not null && !available.Contains(given))
        {
            throw new ArgumentException($"{path}: no {what} column '{given}'; aclImdb has the columns [text, label].");
        }
    }

    private static string SplitFile(string directory, string? split)
    {
        var files = Directory.EnumerateFiles(directory).Where(DataFiles.IsSupported).OrderBy(f => f, StringComparer.Ordinal).ToList();
        var available = files.Select(f => Path.GetFileNameWithoutExtension(f)).Distinct(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new InvalidDataException($"{directory}: no data files (.tsv, .csv, .jsonl, .json) and not an aclImdb folder.");
        }
        if (split is null)
        {
            throw new ArgumentException($"{directory} holds the splits [{string.Join(", ", available)}]; choose one (--split).", nameof(split));
        }
        string[] stems = SplitFileStems.TryGetValue(split, out var aliases) ? aliases : [split];
        foreach (var stem in stems)
        {
            var match = files.Where(f => Path.GetFileNameWithoutExtension(f) == stem).ToList();
            if (match.Count > 1)
            {
                throw new InvalidDataException($"{directory}: several files for split '{split}' ({string.Join(", ", match.Select(Path.GetFileName))}).");
            }
            if (match.Count == 1) return match[0];
        }
        throw new ArgumentException($"{directory}: no file for split '{split}'; the splits are [{string.Join(", ", available)}].", nameof(split));
    }

    private static Dataset LoadFile(string path, string? textColumn, string? textPairColumn, string? labelColumn, IReadOnlyList<string>? labels)
    {
        if (!DataFiles.IsSupported(path))
        {
            throw new InvalidDataException(
                $"{path}: unknown data file type '{Path.GetExtension(path)}'; expected .tsv, .csv, .txt, .jsonl, .json, an aclImdb folder or aclImdb_v1.tar.gz.");
        }
        var probe = new DataFileOptions();
        var table = DataFiles.ReadRaw(path, probe);
        var columns = table.ColumnNames;
        string source = Path.GetFileName(path);
        string columnList = $"[{string.Join(", ", columns)}]";

        string text = textColumn ?? TextColumnCandidates.FirstOrDefault(columns.Contains)
            ?? throw new InvalidDataException($"{source}: no text column found among {columnList}; name it (--text-column).");
        if (!columns.Contains(text))
        {
            throw new InvalidDataException($"{source}: no text column '{text}'; the columns are {columnList}.");
        }
        string? pair = textPairColumn;
        if (pair is null && textColumn is null && PairPartners.TryGetValue(text, out var partner) && columns.Contains(partner))
        {
            pair = partner;
        }
        if (pair is not null && !columns.Contains(pair))
        {
            throw new InvalidDataException($"{source}: no text-pair column '{pair}'; the columns are {columnList}.");
        }
        string? label = labelColumn ?? LabelColumnCandidates.FirstOrDefault(columns.Contains);
        if (labelColumn is not null && !columns.Contains(labelColumn))
        {
            throw new InvalidDataException($"{source}: no label column '{labelColumn}'; the columns are {columnList}.");
        }
        if (label is null && labels is not null)
        {
            throw new InvalidDataException($"{source}: label names were given but the file has no label column (columns {columnList}).");
        }

        var options = new DataFileOptions
        {
            LabelColumn = label,
            LabelNames = labels,
            TextColumns = pair is null ? [text] : [text, pair],
        };
        var dataset = table.ToDataset(options);
        var keep = new List<string> { text };
        if (pair is not null) keep.Add(pair);
        if (label is not null) keep.Add(label);
        dataset = dataset.SelectColumns(keep);
        dataset = Rename(dataset, text, TextColumn);
        if (pair is not null) dataset = Rename(dataset, pair, TextPairColumn);
        if (label is not null) dataset = Rename(dataset, label, LabelColumn);
        return dataset;
    }

    private static Dataset Rename(Dataset dataset, string from, string to) => from == to ? dataset : dataset.RenameColumn(from, to);
}
