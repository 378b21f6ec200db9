using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp.Dictionaries;

if (args is [MlpDictionaryTrainCommand.Name, ..])
    return MlpDictionaryTrainCommand.Run(args[1..], Console.Out, Console.Error);

await GatewayApp.Build(args).RunAsync();
return 0;
