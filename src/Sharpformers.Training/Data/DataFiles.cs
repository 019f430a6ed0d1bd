using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sharpformers.Training.Data;

/// <summary>Options for reading a CSV/TSV/JSONL file into a <see cref="Dataset"/>.</summary>
public sealed class DataFileOptions
{
    /// <summary>Field delimiter; by default ',' for .csv and a tab for .tsv/.txt.</summary>
    public char? Delimiter { get; init; }

    /// <summary>Quote handling; by default RFC 4180 for CSV and none for TSV (GLUE-style files).</summary>
    public CsvQuoting? Quoting { get; init; }

    /// <summary>Whether the first record names the columns (default true).</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Column names for a file without header (or to replace the header's names).</summary>
    public IReadOnlyList<string>? ColumnNames { get; init; }

    /// <summary>
    /// A column to read as class labels (a <see cref="ClassLabel"/> column of int ids). Cells may be
    /// ids or names. With <see cref="LabelNames"/> the ids/names are checked against them; without,
    /// integer labels get the names "0".."max" and text labels their sorted distinct values.
    /// Non-integer numbers make a float (regression) column instead.
    /// </summary>
    public string? LabelColumn { get; init; }

    /// <summary>The class names in id order, e.g. ["negative", "positive"].</summary>
    public IReadOnlyList<string>? LabelNames { get; init; }

    /// <summary>Columns kept as text even when every cell looks like a number.</summary>
    public IReadOnlyCollection<string>? TextColumns { get; init; }
}

/// <summary>
/// Reads data files into datasets — HF's <c>load_dataset("csv" | "json", data_files=…)</c>:
/// CSV/TSV with a header row (our own RFC 4180 parser, <see cref="CsvQuoting"/>) and JSON Lines
/// (one object per line; a .json file may also hold one array of objects). Columns are typed from
/// their cells (int, long, double, else text; JSON keeps its own types). Every error names the
/// file and line.
/// </summary>
public static class DataFiles
{
    /// <summary>Reads a .csv/.tsv/.txt/.jsonl/.json file, choosing the format by extension.</summary>
    public static Dataset Read(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        return ReadRaw(path, options).ToDataset(options);
    }

    /// <summary>True when <see cref="Read"/> knows the file's extension.</summary>
    public static bool IsSupported(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".csv" or ".tsv" or ".txt" or ".jsonl" or ".ndjson" or ".json";

    /// <summary>The file's cells and lines before typing, so callers can pick columns by the header first.</summary>
    internal static RawTable ReadRaw(string path, DataFileOptions options)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".csv" => ReadDelimited(path, options.Delimiter ?? ',', options.Quoting ?? CsvQuoting.Rfc4180, options),
            ".tsv" or ".txt" => ReadDelimited(path, options.Delimiter ?? '\t', options.Quoting ?? CsvQuoting.None, options),
            ".jsonl" or ".ndjson" or ".json" => ReadJsonTable(path, options),
            _ => throw new InvalidDataException(
                $"{path}: unknown data file type '{extension}'; expected .csv, .tsv, .txt (tab-separated), .jsonl or .json."),
        };
    }

    /// <summary>Reads a comma-separated file (RFC 4180 quoting unless options say otherwise).</summary>
    public static Dataset ReadCsv(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        return ReadDelimited(path, options.Delimiter ?? ',', options.Quoting ?? CsvQuoting.Rfc4180, options).ToDataset(options);
    }

    /// <summary>Reads a tab-separated file (no quoting unless options say otherwise, as GLUE files need).</summary>
    public static Dataset ReadTsv(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        return ReadDelimited(path, options.Delimiter ?? '\t', options.Quoting ?? CsvQuoting.None, options).ToDataset(options);
    }

    /// <summary>Reads JSON Lines (one object per line), or a .json file holding an array of objects.</summary>
    public static Dataset ReadJson(string path, DataFileOptions? options = null)
    {
        options ??= new DataFileOptions();
        return ReadJsonTable(path, options).ToDataset(options);
    }

    private static RawTable ReadJsonTable(string path, DataFileOptions options)
    {
        string text = ReadText(path);
        string source = Path.GetFileName(path);
        var table = new RawTable(source);
        string trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (trimmed.StartsWith('['))
        {
            ReadJsonArray(text, table);
        }
        else
        {
            ReadJsonLines(text, table);
        }
        if (options.ColumnNames is { } names)
        {
            table.Rename(names);
        }
        return table;
    }

    private static RawTable ReadDelimited(string path, char delimiter, CsvQuoting quoting, DataFileOptions options)
    {
        string text = ReadText(path);
        string source = Path.GetFileName(path);
        var records = DelimitedTextParser.Parse(text, delimiter, quoting, source);
        var table = new RawTable(source);
        int first = 0;
        if (options.HasHeader)
        {
            if (records.Count == 0)
            {
                throw new InvalidDataException($"{source}: the file is empty; expected a header row naming the columns.");
            }
            var header = records[0];
            for (int c = 0; c < header.Fields.Length; c++)
            {
                table.AddColumn(header.Fields[c], header.Line, c + 1);
            }
            first = 1;
        }
        if (options.ColumnNames is { } names)
        {
            if (!options.HasHeader)
            {
                foreach (var name in names) table.AddColumn(name, 0, 0);
            }
            else
            {
                table.Rename(names);
            }
        }
        else if (!options.HasHeader)
        {
            int width = records.Count > 0 ? records[0].Fields.Length : 0;
            for (int c = 0; c < width; c++) table.AddColumn($"column_{c}", 0, 0);
        }
        int expected = table.ColumnNames.Count;
        for (int r = first; r < records.Count; r++)
        {
            var record = records[r];
            if (record.Fields.Length != expected)
            {
                string hint = delimiter == '\t' && record.Fields.Length > expected ? " (a tab inside a text field?)" : "";
                throw new InvalidDataException(
                    $"{source} line {record.Line}: expected {expected} columns, got {record.Fields.Length}{hint}.");
            }
            table.AddRow(record.Fields, record.Line);
        }
        table.CellsAreText = true;
        return table;
    }

    /// <summary>Reads a whole file as strict UTF-8; invalid bytes are reported with their line.</summary>
    internal static string ReadText(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Data file not found: {path}", path);
        }
        byte[] bytes = File.ReadAllBytes(path);
        return DecodeUtf8(bytes, Path.GetFileName(path));
    }

    internal static string DecodeUtf8(byte[] bytes, string source)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            int index = Math.Clamp(e.Index, 0, bytes.Length);
            int line = 1 + bytes.AsSpan(0, index).Count((byte)'\n');
            throw new InvalidDataException($"{source} line {line}: invalid UTF-8 (byte offset {index}); data files must be UTF-8.", e);
        }
    }

    private static void ReadJsonLines(string text, RawTable table)
    {
        int line = 0;
        foreach (var raw in text.Split('\n'))
        {
            line++;
            string content = raw.TrimEnd('\r').Trim();
            if (line == 1) content = content.TrimStart('\uFEFF');
            if (content.Length == 0) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(content);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{table.Source} line {line}: invalid JSON ({e.Message}).", e);
            }
            using (document)
            {
                AddJsonObject(document.RootElement, table, line);
            }
        }
    }

    private static void ReadJsonArray(string text, RawTable table)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text.TrimStart('\uFEFF'));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{table.Source} line {(e.LineNumber ?? 0) + 1}: invalid JSON ({e.Message}).", e);
        }
        using (document)
        {
            int index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                // Rows of a JSON array have no line of their own; report the element index instead.
                AddJsonObject(element, table, -(++index));
            }
        }
    }

    private static void AddJsonObject(JsonElement element, RawTable table, int line)
    {
        string where = RawTable.Where(table.Source, line);
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where}: expected a JSON object, got {element.ValueKind}.");
        }
        if (table.ColumnNames.Count == 0 && table.RowCount == 0)
        {
            foreach (var property in element.EnumerateObject()) table.AddColumn(property.Name, line, 0);
        }
        var cells = new object?[table.ColumnNames.Count];
        var seen = new bool[cells.Length];
        foreach (var property in element.EnumerateObject())
        {
            int column = table.ColumnIndex(property.Name);
            if (column < 0)
            {
                throw new InvalidDataException(
                    $"{where}: key '{property.Name}' is not among the keys of the first row [{string.Join(", ", table.ColumnNames)}].");
            }
            cells[column] = JsonCell(property.Value, where, property.Name);
            seen[column] = true;
        }
        int missing = Array.IndexOf(seen, false);
        if (missing >= 0)
        {
            throw new InvalidDataException($"{where}: key '{table.ColumnNames[missing]}' is missing (the first row has it).");
        }
        table.AddRow(cells, line);
    }

    private static object? JsonCell(JsonElement value, string where, string key) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out long l) ? l : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.Array => JsonArrayCell(value, where, key),
        _ => throw new InvalidDataException($"{where}: key '{key}' holds a nested object; dataset cells are scalars or lists."),
    };

    private static object JsonArrayCell(JsonElement array, string where, string key)
    {
        var items = array.EnumerateArray().ToList();
        if (items.All(i => i.ValueKind == JsonValueKind.Number))
        {
            if (items.All(i => i.TryGetInt32(out _))) return items.Select(i => i.GetInt32()).ToArray();
            if (items.All(i => i.TryGetInt64(out _))) return items.Select(i => i.GetInt64()).ToArray();
            return items.Select(i => i.GetDouble()).ToArray();
        }
        if (items.All(i => i.ValueKind == JsonValueKind.String)) return items.Select(i => i.GetString()!).ToArray();
        throw new InvalidDataException($"{where}: key '{key}' holds a list mixing types; lists must hold only numbers or only strings.");
    }
}

/// <summary>Cells read from a file with the line of each row, before typing.</summary>
internal sealed class RawTable(string source)
{
    private readonly List<string> columnNames = [];
    private readonly List<object?[]> rows = [];
    private readonly List<int> lines = [];

    public string Source { get; } = source;

    public IReadOnlyList<string> ColumnNames => columnNames;

    public int RowCount => rows.Count;

    /// <summary>Cells are raw text to be typed (CSV/TSV) rather than JSON values.</summary>
    public bool CellsAreText { get; set; }

    public static string Where(string source, int line) =>
        line > 0 ? $"{source} line {line}" : line < 0 ? $"{source} element {-line}" : source;

    public void AddColumn(string name, int line, int column)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidDataException($"{Where(Source, line)}: header column {column} has no name.");
        }
        if (columnNames.Contains(name))
        {
            throw new InvalidDataException($"{Where(Source, line)}: column name '{name}' appears twice in the header.");
        }
        columnNames.Add(name);
    }

    public void Rename(IReadOnlyList<string> names)
    {
        if (names.Count != columnNames.Count)
        {
            throw new InvalidDataException($"{Source}: {names.Count} column names were given but the file has {columnNames.Count} columns [{string.Join(", ", columnNames)}].");
        }
        columnNames.Clear();
        foreach (var name in names) AddColumn(name, 0, columnNames.Count + 1);
    }

    public int ColumnIndex(string name) => columnNames.IndexOf(name);

    public void AddRow(object?[] cells, int line)
    {
        rows.Add(cells);
        lines.Add(line);
    }

    public Dataset ToDataset(DataFileOptions options)
    {
        if (options.LabelColumn is { } label && !columnNames.Contains(label))
        {
            throw new InvalidDataException($"{Source}: no label column '{label}'; the columns are [{string.Join(", ", columnNames)}].");
        }
        foreach (var text in options.TextColumns ?? [])
        {
            if (!columnNames.Contains(text))
            {
                throw new InvalidDataException($"{Source}: no text column '{text}'; the columns are [{string.Join(", ", columnNames)}].");
            }
        }
        var columns = new List<(string, DatasetColumn)>();
        var features = new Dictionary<string, FeatureType>();
        for (int c = 0; c < columnNames.Count; c++)
        {
            string name = columnNames[c];
            if (name == options.LabelColumn)
            {
                var (column, feature) = LabelColumn(c, options.LabelNames);
                columns.Add((name, column));
                if (feature is not null) features[name] = feature;
            }
            else if (options.TextColumns?.Contains(name) == true)
            {
                columns.Add((name, TextColumn(c)));
            }
            else
            {
                columns.Add((name, CellsAreText ? InferTextColumn(c) : DatasetColumn.FromList(Column(c), name)));
            }
        }
        try
        {
            return Dataset.FromColumns(columns, features);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{Source}: {e.Message}", e);
        }
    }

    private object?[] Column(int c) => rows.Select(r => r[c]).ToArray();

    private DatasetColumn TextColumn(int c)
    {
        var values = new string[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            values[r] = rows[r][c] switch
            {
                string s => s,
                null => throw new InvalidDataException($"{Where(Source, lines[r])}: text column '{columnNames[c]}' is null."),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var other => throw new InvalidDataException($"{Where(Source, lines[r])}: text column '{columnNames[c]}' holds a list, not text ({other.GetType().Name})."),
            };
        }
        return DatasetColumn.Create(values);
    }

    private DatasetColumn InferTextColumn(int c)
    {
        var cells = rows.Select(r => (string)r[c]!).ToArray();
        if (cells.Length > 0 && cells.All(s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            return DatasetColumn.Create(cells.Select(s => int.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToArray());
        }
        if (cells.Length > 0 && cells.All(s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            return DatasetColumn.Create(cells.Select(s => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToArray());
        }
        if (cells.Length > 0 && cells.All(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            return DatasetColumn.Create(cells.Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray());
        }
        return DatasetColumn.Create(cells);
    }

    /// <summary>Reads the label column as class ids (ClassLabel) or, for non-integer numbers, as floats.</summary>
    private (DatasetColumn Column, FeatureType? Feature) LabelColumn(int c, IReadOnlyList<string>? names)
    {
        string name = columnNames[c];
        var label = names is null ? null : new ClassLabel(names);
        var parsed = new (long? Id, double? Number, string? Text)[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            object? cell = rows[r][c];
            string where = Where(Source, lines[r]);
            parsed[r] = cell switch
            {
                null => throw new InvalidDataException($"{where}: the label ('{name}') is missing."),
                long l => (l, null, null),
                int i => (i, null, null),
                double d => (null, d, null),
                bool b => (b ? 1 : 0, null, null),
                string s when s.Trim().Length == 0 => throw new InvalidDataException($"{where}: the label ('{name}') is empty."),
                string s when label is null || !label.TryStr2Int(s.Trim(), out _) => ParseLabelText(s.Trim()),
                string s => (null, null, s.Trim()),
                _ => throw new InvalidDataException($"{where}: the label ('{name}') is a list; expected one class id or name."),
            };
        }

        bool anyText = parsed.Any(p => p.Text is not null);
        bool anyFraction = parsed.Any(p => p.Number is double d && d != Math.Floor(d));
        if (label is null && !anyText && anyFraction)
        {
            return (DatasetColumn.Create(parsed.Select(p => (float)(p.Id ?? p.Number!.Value)).ToArray()), null);
        }
        if (label is null && anyText)
        {
            if (parsed.Any(p => p.Text is null))
            {
                int r = Array.FindIndex(parsed, p => p.Text is null);
                throw new InvalidDataException($"{Where(Source, lines[r])}: label '{rows[r][c]}' is a number but other labels are names; use one kind.");
            }
            label = new ClassLabel(parsed.Select(p => p.Text!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        }
        var ids = new int[rows.Count];
        long maxId = -1;
        for (int r = 0; r < rows.Count; r++)
        {
            var (id, number, text) = parsed[r];
            string where = Where(Source, lines[r]);
            long value;
            if (text is not null)
            {
                if (!label!.TryStr2Int(text, out int named))
                {
                    throw new InvalidDataException(
                        $"{where}: label '{text}' is not one of the ClassLabel names [{string.Join(", ", label.Names)}].");
                }
                value = named;
            }
            else if (id is long l)
            {
                value = l;
            }
            else if (number is double d && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
            {
                value = (long)d;
            }
            else
            {
                throw new InvalidDataException($"{where}: label {number?.ToString(CultureInfo.InvariantCulture)} is not a class id (a whole number).");
            }
            if (value < -1 || (label is not null && value >= label.NumClasses) || value > int.MaxValue)
            {
                string known = label is null ? "" : $" outside the ClassLabel names [{string.Join(", ", label.Names)}] (ids 0..{label.NumClasses - 1})";
                throw new InvalidDataException($"{where}: label {rows[r][c]} is{(known.Length > 0 ? known : " not a valid class id")}.");
            }
            ids[r] = (int)value;
            maxId = Math.Max(maxId, value);
        }
        label ??= ClassLabel.FromNumClasses((int)Math.Max(1, maxId + 1));
        return (DatasetColumn.Create(ids), label);

        static (long?, double?, string?) ParseLabelText(string s)
        {
            if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return (l, null, null);
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return (null, d, null);
            return (null, null, s);
        }
    }
}
