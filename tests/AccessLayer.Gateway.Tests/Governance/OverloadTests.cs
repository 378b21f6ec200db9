using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>Overload protection: connection caps, flapping bans, the memory watermark.</summary>
public sealed class OverloadTests
{
    [Fact]
    public async Task Past_the_connection_cap_new_sockets_are_closed_at_accept_until_one_leaves()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:MaxConnections=2");
        var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync("one");
        await using var second = await gateway.ConnectClientAsync();
        await second.ConnectAsync("two");

        await using var third = await gateway.ConnectClientAsync();
        Assert.True(await third.WaitForCloseAsync());
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_gateway_connections_refused_total", ("reason", "max_connections"), ("listener", "tcp")));

        await first.DisconnectAsync();
        await first.DisposeAsync();
        var governor = gateway.Services.GetRequiredService<ConnectionGovernor>();
        await GovernedGateway.WaitUntilAsync(() => governor.ActiveConnections == 1, "slot freed");
        await using var fourth = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await fourth.ConnectAsync("four")).ReasonCode);
    }

    [Fact]
    public async Task A_listener_cap_applies_to_its_own_listener_only()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:MaxConnectionsPerListener:tcp=1");
        await using var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync("one");
        await using var second = await gateway.ConnectClientAsync();
        Assert.True(await second.WaitForCloseAsync());

        await using var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt"));
        Assert.Equal(MqttReasonCode.Success, (await ws.ConnectMqttAsync("over-ws")).ReasonCode);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_gateway_connections_refused_total", ("reason", "listener_full"), ("listener", "tcp")));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_gateway_connections", ("listener", "ws")));
    }

    [Fact]
    public async Task A_flapping_client_is_banned_with_0x8A_on_5_0_closed_on_3_1_1_and_let_back_after_the_ban()
    {
        await using var gateway = await GovernedGateway.StartAsync(
            "--Limits:FlappingMaxConnects=3", "--Limits:FlappingWindow=00:01:00", "--Limits:FlappingBanDuration=00:05:00");
        for (var i = 0; i < 3; i++)
        {
            await using var client = await gateway.ConnectClientAsync();
            Assert.Equal(MqttReasonCode.Success, (await client.ConnectAsync("flappy")).ReasonCode);
            await client.DisconnectAsync();
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(5));
        }

        await using (var banned = await gateway.ConnectClientAsync())
        {
            var connAck = await banned.ConnectAsync("flappy");
            Assert.Equal(MqttReasonCode.Banned, connAck.ReasonCode);
            Assert.True(await banned.WaitForCloseAsync());
        }

        await using (var old = await gateway.ConnectClientAsync())
        {
            await old.SendAsync(w => MqttConnectWriter.Write(w, new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V311, ClientId = "flappy", CleanStart = true }));
            Assert.Null(await old.TryReceiveAsync(TimeSpan.FromSeconds(5)));
        }

        await using (var other = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.Success, (await other.ConnectAsync("steady")).ReasonCode);
        }

        using var bans = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/bans"));
        Assert.Equal("flappy", bans.RootElement[0].GetProperty("clientId").GetString());
        Assert.Equal(2, await gateway.MetricAsync("accesslayer_mqtt_connections_rejected_total", ("reason", "banned")));

        await gateway.AdvanceAsync(TimeSpan.FromMinutes(5));
        await using var forgiven = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await forgiven.ConnectAsync("flappy")).ReasonCode);
    }

    [Fact]
    public async Task Connects_spread_wider_than_the_window_are_not_flapping()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:FlappingMaxConnects=2", "--Limits:FlappingWindow=00:00:10");
        for (var i = 0; i < 6; i++)
        {
            await using var client = await gateway.ConnectClientAsync();
            Assert.Equal(MqttReasonCode.Success, (await client.ConnectAsync("patient")).ReasonCode);
            await client.DisconnectAsync();
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(6));
        }
    }

    [Fact]
    public async Task Past_the_memory_watermark_new_CONNECTs_get_server_busy_until_memory_falls_under_the_low_mark()
    {
        var memory = new FakeMemoryProbe();
        await using var gateway = await GovernedGateway.StartAsync(s => s.AddSingleton<IProcessMemoryProbe>(memory), "--Limits:MemoryHighWatermarkBytes=1000000");
        await using var existing = await gateway.ConnectClientAsync();
        await existing.ConnectAsync("existing");
        await existing.SubscribeAsync("echo", MqttQualityOfService.AtMostOnce);

        memory.UsedBytes = 1_200_000;
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
        await using (var v5 = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.ServerBusy, (await v5.ConnectAsync("late-5")).ReasonCode);
        }

        await using (var v311 = await gateway.ConnectClientAsync())
        {
            var connAck = await v311.ConnectAsync("late-3", MqttProtocolVersion.V311);
            Assert.Equal(MqttConnectReturnCode.ServerUnavailable, connAck.ReturnCode);
        }

        // Connected clients keep working.
        await existing.PublishAsync("echo", "still here");
        Assert.Equal("echo", (await existing.ReceivePublishAsync()).Message.Topic);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_gateway_memory_overloaded"));

        memory.UsedBytes = 950_000;
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
        await using (var stillBusy = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.ServerBusy, (await stillBusy.ConnectAsync("late-5")).ReasonCode);
        }

        memory.UsedBytes = 800_000;
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
        await using var welcome = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await welcome.ConnectAsync("late-5")).ReasonCode);
        Assert.Equal(3, await gateway.MetricAsync("accesslayer_mqtt_connections_rejected_total", ("reason", "server_busy")));
    }

    private sealed class FakeMemoryProbe : IProcessMemoryProbe
    {
        private long _used;

        public long UsedBytes
        {
            get => Volatile.Read(ref _used);
            set => Volatile.Write(ref _used, value);
        }

        public long AvailableBytes => 1L << 40;
    }
}
