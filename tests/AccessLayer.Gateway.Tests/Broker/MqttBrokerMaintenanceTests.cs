using System.Text;
using AccessLayer.Gateway.Tests.Infrastructure;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Retained;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>Time-driven behaviour: keep alive, CONNECT timeout, will delay, session expiry — all on a fake clock.</summary>
public sealed class MqttBrokerMaintenanceTests
{
    [Fact]
    public async Task A_pass_that_throws_is_logged_and_counted_and_the_loop_and_the_host_go_on()
    {
        // The real loop (PeriodicTimer on the fake clock), not RunOnceAsync: what must survive is the loop.
        using var failures = new LoopFailureCounter();
        Fault<IRetainedMessageStore>? fault = null;
        await using var gateway = await InProcessGateway.StartAsync(services => fault = FaultInjection.Inject<IRetainedMessageStore>(services, nameof(IRetainedMessageStore.RemoveExpiredAsync), times: 1, () => new InjectedFaultException()));
        await using var device = await gateway.ConnectClientAsync();
        await device.ConnectAsync("ticking", keepAlive: 2);

        await WaitUntilAsync(() =>
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
            return fault!.Calls >= 1;
        });
        Assert.Equal(1, fault!.Fired);
        await WaitUntilAsync(() => failures["mqtt_maintenance"] == 1);

        // Later ticks still run: the keep alive (2 s x 1.5) is enforced and the host is still up.
        await WaitUntilAsync(() =>
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
            return fault.Calls >= 5;
        });
        Assert.Equal(MqttReasonCode.KeepAliveTimeout, (await device.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.False(gateway.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        await using var another = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await another.ConnectAsync("another")).ReasonCode);
    }

    [Fact]
    public async Task Keep_alive_is_enforced_at_one_and_a_half_times_with_DISCONNECT_0x8D_and_the_will()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher");
        await watcher.SubscribeAsync("wills/#");

        await using var device = await gateway.ConnectClientAsync();
        var will = new MqttWillMessage { Topic = "wills/device", Payload = Encoding.UTF8.GetBytes("gone"), QualityOfService = MqttQualityOfService.AtLeastOnce };
        await device.ConnectAsync("device", keepAlive: 10, will: will);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(14));
        Assert.Null(await device.TryReceiveAsync(TimeSpan.FromMilliseconds(200)));

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        var disconnect = await device.ReceiveAsync();
        Assert.Equal(MqttPacketType.Disconnect, disconnect.Type);
        Assert.Equal(MqttReasonCode.KeepAliveTimeout, disconnect.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await device.WaitForCloseAsync());

        var (message, packetId, _, _) = await watcher.ReceivePublishAsync();
        Assert.Equal("wills/device", message.Topic);
        Assert.Equal("gone", Encoding.UTF8.GetString(message.Payload.Span));
        await watcher.SendAckAsync(MqttPacketType.PubAck, packetId);
    }

    [Fact]
    public async Task Any_packet_resets_the_keep_alive_clock()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var device = await gateway.ConnectClientAsync();
        await device.ConnectAsync("pinger", MqttProtocolVersion.V311, keepAlive: 10);

        for (var i = 0; i < 3; i++)
        {
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(12));
            await device.SendAsync(MqttPingWriter.WritePingReq);
            Assert.Equal(MqttPacketType.PingResp, (await device.ReceiveAsync()).Type);
        }

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(12));
        Assert.Null(await device.TryReceiveAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_connection_that_sends_no_CONNECT_in_time_is_closed()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:ConnectTimeoutSeconds=5");
        await using var silent = await gateway.ConnectClientAsync();
        await WaitUntilAsync(() => gateway.Broker.Connections.Count == 1);
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.False(await silent.WaitForCloseAsync(TimeSpan.FromMilliseconds(200)));

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True(await silent.WaitForCloseAsync());
    }

    [Fact]
    public async Task A_delayed_will_is_published_after_its_delay()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher");
        await watcher.SubscribeAsync("wills/#", MqttQualityOfService.AtMostOnce);

        var device = await gateway.ConnectClientAsync();
        var will = new MqttWillMessage { Topic = "wills/late", Payload = Encoding.UTF8.GetBytes("x"), WillDelayInterval = 30 };
        await device.ConnectAsync("late", sessionExpiry: 300, will: will);
        device.Abort();
        await WaitUntilOfflineAsync(gateway, "late", connected: 1);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.Null(await watcher.TryReceiveAsync(TimeSpan.FromMilliseconds(200)));

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(11));
        var (message, _, _, _) = await watcher.ReceivePublishAsync();
        Assert.Equal("wills/late", message.Topic);
    }

    [Fact]
    public async Task Reconnecting_within_the_will_delay_cancels_the_will()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher");
        await watcher.SubscribeAsync("wills/#", MqttQualityOfService.AtMostOnce);

        var device = await gateway.ConnectClientAsync();
        var will = new MqttWillMessage { Topic = "wills/flaky", Payload = Encoding.UTF8.GetBytes("x"), WillDelayInterval = 30 };
        await device.ConnectAsync("flaky", sessionExpiry: 300, will: will);
        device.Abort();
        await WaitUntilOfflineAsync(gateway, "flaky", connected: 1);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(10));
        await using var again = await gateway.ConnectClientAsync();
        var connAck = await again.ConnectAsync("flaky", cleanStart: false, sessionExpiry: 300);
        Assert.True(connAck.SessionPresent);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(60));
        Assert.Null(await watcher.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_session_ends_when_its_expiry_interval_passes()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var device = await gateway.ConnectClientAsync();
        await device.ConnectAsync("expiring", sessionExpiry: 60);
        await device.SubscribeAsync("cmd/expiring");
        await device.DisconnectAsync();
        await device.DisposeAsync();
        await WaitUntilOfflineAsync(gateway, "expiring", connected: 0);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(59));
        await using (var early = await gateway.ConnectClientAsync())
        {
            Assert.True((await early.ConnectAsync("expiring", cleanStart: false, sessionExpiry: 60)).SessionPresent);
            await early.DisconnectAsync();
        }

        await WaitUntilOfflineAsync(gateway, "expiring", connected: 0);
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(61));
        await using var late = await gateway.ConnectClientAsync();
        Assert.False((await late.ConnectAsync("expiring", cleanStart: false, sessionExpiry: 60)).SessionPresent);
    }

    /// <summary>
    /// Until the client's session is offline, not only its connection gone: the broker's connection count drops before
    /// the session's disconnect, which times the expiry and the will from the clock's now. Advanced before it, the fake
    /// clock made them come due late (these tests failed about 1 run in 5).
    /// </summary>
    private static Task WaitUntilOfflineAsync(InProcessGateway gateway, string clientId, int connected) =>
        WaitUntilAsync(() => gateway.Broker.ConnectedClientCount == connected
            && gateway.Broker.Sessions.GetAsync(clientId).AsTask().GetAwaiter().GetResult() is { IsConnected: false });

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        // Polls broker state that changes on another thread after a socket event; bounded.
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Yield();
            await Task.Delay(10);
        }

        Assert.True(condition(), "Condition not reached in time.");
    }
}
