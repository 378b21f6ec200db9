using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>The real gateway (Kestrel, loopback sockets) inside the test process: MLP on a free port, MQTT off.</summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessGateway(WebApplication app, int mlpPort)
    {
        _app = app;
        MlpPort = mlpPort;
    }

    public int MlpPort { get; }

    public IPEndPoint MlpEndPoint => new(IPAddress.Loopback, MlpPort);

    public static async Task<InProcessGateway> StartAsync(params string[] settings)
    {
        var mlpPort = FreePorts.Next();
        var httpPort = FreePorts.Next();
        string[] args =
        [
            "--Mqtt:Port=0", $"--Mlp:Port={mlpPort}", "--Mlp:BindAddress=127.0.0.1", $"--Http:Port={httpPort}", "--Http:BindAddress=127.0.0.1",
            $"--Management:Port={FreePorts.Next()}", "--Management:BindAddress=127.0.0.1",
            "--Mlp:AllowAnonymous=true", "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        var app = GatewayApp.Build(args);
        await app.StartAsync();
        return new InProcessGateway(app, mlpPort);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

}
