using Sharpformers.Cli.Infrastructure;

namespace Sharpformers.Cli;

/// <summary>Every `sharpformers` sub-command, in the order `--help` lists them.</summary>
public static class CommandRegistry
{
    public static IReadOnlyList<ICliCommand> All() =>
    [
        // Each command lives in Commands/<Name>Command.cs.
        new Commands.ClassifyCommand(),
        new Commands.TokenizeCommand(),
        new Commands.TrainCommand(),
        new Commands.EvaluateCommand(),
        new Commands.DownloadCommand(),
        new Commands.ConvertCommand(),
        new Commands.ServeCommand(),
        new Commands.BenchCommand(),
    ];
}
