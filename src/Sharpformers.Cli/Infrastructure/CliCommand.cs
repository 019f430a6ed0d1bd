namespace Sharpformers.Cli.Infrastructure;

/// <summary>One option of a command, for parsing and for the help text.</summary>
/// <param name="Name">Long name without dashes, e.g. "max-length".</param>
/// <param name="ValueName">Placeholder for the value ("N", "DIR"); null for a boolean flag.</param>
/// <param name="Help">One line of help.</param>
/// <param name="Repeatable">Whether the option may be given more than once.</param>
/// <param name="ValueOptional">
/// The value may be left out (`--truncation` alone or followed by another option); it then reads as "".
/// </param>
public sealed record CliOption(string Name, string? ValueName, string Help, bool Repeatable = false, bool ValueOptional = false)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>A sub-command of the `sharpformers` tool: its name, help and behaviour.</summary>
public interface ICliCommand
{
    string Name { get; }

    /// <summary>One line shown in `sharpformers --help`.</summary>
    string Summary { get; }

    /// <summary>Usage line(s) after the command name, e.g. "--model DIR [TEXT ...]".</summary>
    string Usage { get; }

    IReadOnlyList<CliOption> Options { get; }

    /// <summary>Runs the command; returns the process exit code.</summary>
    int Run(ParsedArguments args, CliContext context);
}

/// <summary>The process's standard streams, injectable so commands are testable in-process.</summary>
public sealed class CliContext
{
    public required TextReader In { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }

    /// <summary>Raw standard input, for commands that must validate UTF-8 themselves.</summary>
    public Stream? InputStream { get; init; }

    public static CliContext FromConsole() => new()
    {
        In = Console.In,
        Out = Console.Out,
        Error = Console.Error,
        InputStream = Console.OpenStandardInput(),
    };
}
