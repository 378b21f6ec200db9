using AccessLayer.Client.Cli;

return await MlpCurl.RunAsync(args, Console.Out, Console.Error);
