using AccessLayer.Bots;
using AccessLayer.Bots.Cli;

var commandLine = new BotCommandLine();
commandLine.Run = (parseResult, cancellationToken) => BotRunner.RunAsync(commandLine, parseResult, cancellationToken);
return await commandLine.Root.Parse(args).InvokeAsync();
