using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Security;

if (args is ["hash-password", ..])
{
    return PasswordTool.Run(args[1..], Console.In, Console.Out, Console.Error);
}

await GatewayApp.Build(args).RunAsync();
return 0;
