using System.Text;

namespace Sharpformers.Training.Data;

/// <summary>How quotes are treated in CSV/TSV files.</summary>
public enum CsvQuoting
{
    /// <summary>
    /// Quotes are ordinary characters and fields never span lines. This is how GLUE and the ERNIE
    /// ChnSentiCorp release are meant to be read (Python's <c>csv.QUOTE_NONE</c>): their texts contain
    /// unbalanced quotes that RFC 4180 parsing would glue into one huge field.
    /// </summary>
    None,

    /// <summary>
    /// RFC 4180: a field that starts with <c>"</c> runs to the matching <c>"</c>, may contain the
    /// delimiter and line breaks, and writes a literal quote as <c>""</c>.
    /// </summary>
    Rfc4180,
}

/// <summary>One record of a delimited file with the line it starts on (1-based), for error messages.</summary>
internal readonly record struct DelimitedRecord(string[] Fields, int Line);

/// <summary>
/// Our own CSV/TSV tokenizer (no third-party parser): splits decoded text into records and fields,
/// with RFC 4180 quoting or none, CRLF or LF line ends, and blank lines skipped. Errors name the
/// file, line and column.
/// </summary>
internal static class DelimitedTextParser
{
    public static List<DelimitedRecord> Parse(string text, char delimiter, CsvQuoting quoting, string source)
    {
        if (delimiter is '"' or '\n' or '\r')
        {
            throw new ArgumentException($"'{delimiter}' cannot be a field delimiter.", nameof(delimiter));
        }
        int start = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        return quoting == CsvQuoting.None
            ? ParseUnquoted(text, start, delimiter)
            : ParseRfc4180(text, start, delimiter, source);
    }

    private static List<DelimitedRecord> ParseUnquoted(string text, int start, char delimiter)
    {
        var records = new List<DelimitedRecord>();
        int line = 1;
        int position = start;
        while (position <= text.Length)
        {
            int end = text.IndexOf('\n', position);
            int next = end < 0 ? text.Length + 1 : end + 1;
            if (end < 0) end = text.Length;
            int contentEnd = end > position && text[end - 1] == '\r' ? end - 1 : end;
            if (contentEnd > position)
            {
                records.Add(new DelimitedRecord(text[position..contentEnd].Split(delimiter), line));
            }
            line++;
            position = next;
        }
        return records;
    }

    private static List<DelimitedRecord> ParseRfc4180(string text, int start, char delimiter, string source)
    {
        var records = new List<DelimitedRecord>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1;
        int lineStart = start;
        int recordLine = 1;
        int i = start;
        bool recordHasContent = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"' && field.Length == 0 && !FieldStartedUnquoted(text, i, lineStart, delimiter))
            {
                // A quoted field: runs to the closing quote; "" is a literal quote.
                int openLine = line;
                int openColumn = i - lineStart + 1;
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new InvalidDataException(
                            $"{source} line {openLine}, column {openColumn}: the quoted field opened here is never closed.");
                    }
                    char q = text[i];
                    if (q == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (q == '\n')
                    {
                        line++;
                        lineStart = i + 1;
                    }
                    field.Append(q);
                    i++;
                }
                recordHasContent = true;
                if (i < text.Length && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
                {
                    throw new InvalidDataException(
                        $"{source} line {line}, column {i - lineStart + 1}: unexpected '{text[i]}' after the closing quote of a quoted field " +
                        "(inside a quoted field a quote is written as \"\").");
                }
                continue;
            }
            if (c == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
                recordHasContent = true;
                i++;
                continue;
            }
            if (c == '\n' || c == '\r')
            {
                EndRecord();
                i += c == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                line++;
                lineStart = i;
                recordLine = line;
                continue;
            }
            field.Append(c);
            recordHasContent = true;
            i++;
        }
        EndRecord();
        return records;

        void EndRecord()
        {
            if (recordHasContent || field.Length > 0)
            {
                fields.Add(field.ToString());
                records.Add(new DelimitedRecord(fields.ToArray(), recordLine));
            }
            fields.Clear();
            field.Clear();
            recordHasContent = false;
        }
    }

    // A quote opens a quoted field only at the very start of a field; in the middle of an unquoted
    // field it is an ordinary character (as Python's csv module reads it).
    private static bool FieldStartedUnquoted(string text, int quoteIndex, int lineStart, char delimiter) =>
        quoteIndex > lineStart && text[quoteIndex - 1] != delimiter;
}
