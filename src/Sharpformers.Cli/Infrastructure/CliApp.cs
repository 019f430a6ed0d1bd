using System.Text.Json;

namespace Sharpformers.Cli.Infrastructure;

/// <summary>
/// Dispatches `sharpformers COMMAND ...` to a command, prints help, and turns failures into one
/// clear line on standard error (no stack dumps unless SHARPFORMERS_DEBUG=1).
/// Exit codes: 0 success, 1 runtime error, 2 usage error.
/// </summary>
public sealed class CliApp(IReadOnlyList<ICliCommand> commands)
{
    public const int Success = 0;
    public const int RuntimeError = 1;
    public const int UsageError = 2;

    public IReadOnlyList<ICliCommand> Commands => commands;

    public int Run(IReadOnlyList<string> args, CliContext context)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            if (args.Count >= 2 && Find(args[1]) is { } helpFor)
            {
                PrintCommandHelp(helpFor, context.Out);
                return Success;
            }
            PrintHelp(context.Out);
            return args.Count == 0 ? UsageError : Success;
        }
        if (args[0] is "--version")
        {
            context.Out.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "unknown");
            return Success;
        }
        var command = Find(args[0]);
        if (command is null)
        {
            context.Error.WriteLine($"error: unknown command '{args[0]}'. Commands: {string.Join(", ", commands.Select(c => c.Name))}.");
            return UsageError;
        }
        var rest = args.Skip(1).ToList();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            PrintCommandHelp(command, context.Out);
            return Success;
        }
        try
        {
            var parsed = ParsedArguments.Parse(rest, command.Options);
            return command.Run(parsed, context);
        }
        catch (CliUsageException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            context.Error.WriteLine($"usage: sharpformers {command.Name} {command.Usage}");
            context.Error.WriteLine($"(see 'sharpformers {command.Name} --help')");
            return UsageError;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            context.Error.WriteLine($"error: {Describe(e)}");
            if (Environment.GetEnvironmentVariable("SHARPFORMERS_DEBUG") == "1") context.Error.WriteLine(e);
            return RuntimeError;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SHARPFORMERS_DEBUG") != "1")
        {
            context.Error.WriteLine($"internal error ({e.GetType().Name}): {e.Message}");
            context.Error.WriteLine("This is a bug in Sharpformers; rerun with SHARPFORMERS_DEBUG=1 for the stack trace.");
            return RuntimeError;
        }
    }

    private ICliCommand? Find(string name) => commands.FirstOrDefault(c => c.Name == name);

    /// <summary>Exceptions whose message is written for the user (bad files, bad input, network).</summary>
    private static bool IsUserFacing(Exception e) => e is IOException or InvalidDataException or FormatException
        or ArgumentException or NotSupportedException or UnauthorizedAccessException or JsonException
        or HttpRequestException or KeyNotFoundException or InvalidOperationException or OperationCanceledException;

    private static string Describe(Exception e)
    {
        string message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal)) message += $" ({inner.Message})";
        }
        return message;
    }

    private void PrintHelp(TextWriter w)
    {
        w.WriteLine("sharpformers: Hugging Face Transformers text classification in pure C#");
        w.WriteLine();
        w.WriteLine("usage: sharpformers COMMAND [OPTIONS]");
        w.WriteLine();
        w.WriteLine("commands:");
        int width = commands.Count == 0 ? 0 : commands.Max(c => c.Name.Length);
        foreach (var c in commands) w.WriteLine($"  {c.Name.PadRight(width)}  {c.Summary}");
        w.WriteLine();
        w.WriteLine("Run 'sharpformers COMMAND --help' for a command's options.");
    }

    public static void PrintCommandHelp(ICliCommand command, TextWriter w)
    {
        w.WriteLine($"usage: sharpformers {command.Name} {command.Usage}");
        w.WriteLine();
        w.WriteLine(command.Summary);
        if (command.Options.Count == 0) return;
        w.WriteLine();
        w.WriteLine("options:");
        var names = command.Options.Select(o => o.IsFlag ? $"--{o.Name}" : o.ValueOptional ? $"--{o.Name} [{o.ValueName}]" : $"--{o.Name} {o.ValueName}").ToList();
        int width = names.Max(n => n.Length);
        for (int i = 0; i < names.Count; i++) w.WriteLine($"  {names[i].PadRight(width)}  {command.Options[i].Help}");
    }
}
