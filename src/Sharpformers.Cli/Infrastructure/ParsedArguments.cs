using System.Globalization;

namespace Sharpformers.Cli.Infrastructure;

/// <summary>Thrown for a malformed command line; the CLI prints the message and the command's usage.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The parsed command line of one command: `--name value`, `--name=value`, boolean `--flag`,
/// positional arguments, and `--` ending the options. Unknown options and missing values are errors.
/// </summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly List<string> positionals = [];

    private ParsedArguments()
    {
    }

    public IReadOnlyList<string> Positionals => positionals;

    public static ParsedArguments Parse(IReadOnlyList<string> args, IReadOnlyList<CliOption> options)
    {
        var byName = options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var result = new ParsedArguments();
        bool onlyPositionals = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (onlyPositionals || !arg.StartsWith("--", StringComparison.Ordinal))
            {
                result.positionals.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                onlyPositionals = true;
                continue;
            }
            string name = arg[2..];
            string? inlineValue = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inlineValue = name[(eq + 1)..];
                name = name[..eq];
            }
            if (!byName.TryGetValue(name, out var option))
            {
                string? suggestion = options.Select(o => o.Name).FirstOrDefault(n => n.StartsWith(name, StringComparison.Ordinal) || name.StartsWith(n, StringComparison.Ordinal));
                throw new CliUsageException($"unknown option '--{name}'" + (suggestion is null ? "" : $" (did you mean '--{suggestion}'?)"));
            }
            if (option.IsFlag)
            {
                if (inlineValue is not null)
                {
                    if (!bool.TryParse(inlineValue, out bool on))
                    {
                        throw new CliUsageException($"option '--{name}' is a flag: expected true or false after '=', got '{inlineValue}'");
                    }
                    if (on) result.flags.Add(name);
                    else result.flags.Remove(name);
                }
                else
                {
                    result.flags.Add(name);
                }
                continue;
            }
            string value;
            if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (option.ValueOptional && (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
            {
                value = "";
            }
            else
            {
                if (i + 1 >= args.Count)
                {
                    throw new CliUsageException($"option '--{name}' needs a value ({option.ValueName})");
                }
                value = args[++i];
            }
            if (!result.values.TryGetValue(name, out var list))
            {
                result.values[name] = list = [];
            }
            else if (!option.Repeatable)
            {
                throw new CliUsageException($"option '--{name}' was given more than once");
            }
            list.Add(value);
        }
        return result;
    }

    public bool Has(string name) => flags.Contains(name) || values.ContainsKey(name);

    public bool Flag(string name) => flags.Contains(name);

    public string? Get(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> GetAll(string name) => values.TryGetValue(name, out var list) ? list : [];

    public string Require(string name) => Get(name) ?? throw new CliUsageException($"missing required option '--{name}'");

    public int? GetInt(string name, int? min = null)
    {
        string? raw = Get(name);
        if (raw is null) return null;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            throw new CliUsageException($"option '--{name}' expects an integer, got '{raw}'");
        }
        if (min is not null && value < min)
        {
            throw new CliUsageException($"option '--{name}' must be at least {min}, got {value}");
        }
        return value;
    }

    public double? GetDouble(string name)
    {
        string? raw = Get(name);
        if (raw is null) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new CliUsageException($"option '--{name}' expects a number, got '{raw}'");
        }
        return value;
    }

    /// <summary>A value that must be one of <paramref name="allowed"/> (case-insensitive), normalised to that spelling.</summary>
    public string? GetChoice(string name, params string[] allowed)
    {
        string? raw = Get(name);
        if (raw is null) return null;
        return allowed.FirstOrDefault(a => string.Equals(a, raw, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliUsageException($"option '--{name}' expects one of {string.Join(", ", allowed)}; got '{raw}'");
    }
}
