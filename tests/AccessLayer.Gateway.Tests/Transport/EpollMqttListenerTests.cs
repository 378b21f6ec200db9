using System.Text;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Transport.Epoll;
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

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task An_idle_MQTT_connection_is_parked_with_no_pending_read_and_no_pipeline_task(string inline)
    {
        // The memory target (issue 14) rests on this: an idle connection holds its objects' fields only. A pending
        // ReadAsync (an async state machine box and the engine's watcher of the pipeline task, 240 B) is checkable.
        var (app, port) = await StartAsync($"--Transport:EpollInlineContinuations={inline}");
        await using var _ = app;
        var clients = new List<RawMqttClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var client = await RawMqttClient.OpenAsync(port);
                clients.Add(client);
                await client.ConnectAsync($"idle-{i}", i % 2 == 0 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500, keepAlive: 60);
            }

            // Having handled more (a subscription, a QoS 1 round trip, a PING), a connection parks again.
            await clients[0].SubscribeAsync("t/#", MqttQualityOfService.AtLeastOnce);
            await clients[1].PublishAsync("t/a", "to 0", MqttQualityOfService.AtLeastOnce, packetId: 7);
            Assert.Equal(MqttPacketType.PubAck, (await clients[1].ReceiveAsync()).Type);
            var (message, packetId, _, _) = await clients[0].ReceivePublishAsync();
            Assert.Equal("to 0", Encoding.UTF8.GetString(message.Payload.Span));
            await clients[0].SendAckAsync(MqttPacketType.PubAck, packetId);
            await clients[2].SendRawAsync(new byte[] { 0xC0, 0x00 });
            Assert.Equal(MqttPacketType.PingResp, (await clients[2].ReceiveAsync()).Type);

            var engine = app.Services.GetRequiredService<EpollMqttListener>().Engine!;
            // A reply reaches the client a moment before its server thread parks: wait for the state, bounded.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            List<EpollConnection> connections;
            while (true)
            {
                connections = engine.Snapshot();
                if ((connections.Count == clients.Count && connections.TrueForAll(c => c.IsParked)) || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(20);
            }

            Assert.Equal(clients.Count, connections.Count);
            Assert.All(connections, connection => Assert.True(connection.IsParked, "an idle connection holds a pending read or a pipeline task"));

            // Parked connections still serve: a publish wakes the subscriber's and the publisher's.
            await clients[3].PublishAsync("t/b", "after parking");
            Assert.Equal("after parking", Encoding.UTF8.GetString((await clients[0].ReceivePublishAsync()).Message.Payload.Span));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
