using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollMqttListenerTests
{
    private static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, int Port)> StartAsync(params string[] settings)
    {
        var port = FreePorts.Next();
        var app = GatewayApp.Build(
        [
            $"--Mqtt:Port={port}", "--Mqtt:BindAddress=127.0.0.1", "--Mlp:Port=0", "--Http:Port=0", "--Management:Port=0",
            "--Mqtt:SysInterval=0", "--Logging:LogLevel:Default=Warning", "--Transport:Engine=Epoll", .. settings,
        ]);
        await app.StartAsync();
        return (app, port);
    }

    [Fact]
    public async Task The_gateway_serves_MQTT_over_the_epoll_engine_under_governance()
    {
        var (app, port) = await StartAsync();
        await using var _ = app;
        Assert.Equal(port, app.Services.GetRequiredService<EpollMqttListener>().EndPoint!.Port);

        await using var subscriber = await RawMqttClient.OpenAsync(port);
        await subscriber.ConnectAsync("sub");
        await subscriber.SubscribeAsync("t/#", MqttQualityOfService.AtMostOnce);
        await using var publisher = await RawMqttClient.OpenAsync(port);
        await publisher.ConnectAsync("pub");
        await publisher.PublishAsync("t/a", "over epoll");

        var (message, _, _, _) = await subscriber.ReceivePublishAsync();
        Assert.Equal("t/a", message.Topic);
        Assert.Equal(2, app.Services.GetRequiredService<ConnectionGovernor>().ActiveOn("tcp"));
    }

    [Fact]
    public async Task Stopping_the_gateway_closes_epoll_connections()
    {
        var (app, port) = await StartAsync("--Drain:OnShutdown=false");
        await using var client = await RawMqttClient.OpenAsync(port);
        await client.ConnectAsync("c");

        await app.StopAsync();

        Assert.True(await client.WaitForCloseAsync());
        Assert.Equal(0, app.Services.GetRequiredService<EpollMqttListener>().LiveConnections);
        await app.DisposeAsync();
    }
}
