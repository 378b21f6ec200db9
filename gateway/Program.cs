using AccessLayer.Gateway.Hosting;

await GatewayApp.Build(args).RunAsync();
