using Sharpformers.Cli;
using Sharpformers.Cli.Infrastructure;

return new CliApp(CommandRegistry.All()).Run(args, CliContext.FromConsole());
