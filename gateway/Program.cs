using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp.Dictionaries;
using AccessLayer.Gateway.Security;

// Before anything rents from ArrayPool.Shared: the runtime reads its size once.
SharedArrayPoolSize.Apply();

if (args is [MlpDictionaryTrainCommand.Name, ..])
{
    return MlpDictionaryTrainCommand.Run(args[1..], Console.Out, Console.Error);
}

if (args is ["hash-password", ..])
{
    return PasswordTool.Run(args[1..], Console.In, Console.Out, Console.Error);
}

await GatewayApp.Build(args).RunAsync();
return 0;
