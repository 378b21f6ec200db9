using System.Net.Sockets;
using System.Text;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Security;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>Fake-connection eviction, one test per reason, each counted in metrics: handshake timeout, keep alive, slow consumers and zombies, publish rates.</summary>
public sealed class EvictionTests
{
    [Fact]
    public async Task A_connection_silent_past_the_handshake_timeout_is_closed_and_counted()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:HandshakeTimeout=00:00:03");
        await using var silent = await gateway.ConnectClientAsync();
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.Connections.Count == 1, "accepted");

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.False(await silent.WaitForCloseAsync(TimeSpan.FromMilliseconds(200)));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True(await silent.WaitForCloseAsync());
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "handshake_timeout")));
    }

    [Fact]
    public async Task The_handshake_timeout_also_bounds_a_TLS_handshake_that_never_starts()
    {
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--Limits:HandshakeTimeout=00:00:03"]);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, gateway.MqttTlsPort);
        await GovernedGateway.WaitUntilAsync(() => gateway.Broker.Connections.Count == 1, "accepted");

        // On the epoll engine the TLS handshake runs inside the connection's first reads, so the MQTT handshake timer
        // (the gateway's clock) bounds a peer that never sends a ClientHello, like one that never sends CONNECT.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        using var early = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await socket.ReceiveAsync(new byte[16], SocketFlags.None, early.Token));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await socket.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token);
        Assert.Equal(0, read);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "handshake_timeout")));
    }

    [Fact]
    public async Task A_3_1_1_client_missing_its_keep_alive_is_closed_its_will_published_and_the_reason_counted()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher", MqttProtocolVersion.V311);
        await watcher.SubscribeAsync("wills/#", MqttQualityOfService.AtMostOnce);

        await using var device = await gateway.ConnectClientAsync();
        await device.ConnectAsync("sleepy", MqttProtocolVersion.V311, keepAlive: 20, will: new MqttWillMessage { Topic = "wills/sleepy", Payload = Encoding.UTF8.GetBytes("gone") });
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.False(await device.WaitForCloseAsync(TimeSpan.FromMilliseconds(200)));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True(await device.WaitForCloseAsync());

        var (message, _, _, _) = await watcher.ReceivePublishAsync();
        Assert.Equal("wills/sleepy", message.Topic);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "keep_alive_timeout")));
    }

    [Fact]
    public async Task A_zombie_subscriber_is_bounded_by_messages_and_bytes_then_evicted_after_the_grace()
    {
        // Back-pressure off: this is about the bounds and the drops (BackPressureTests cover a paced publisher and the grace).
        await using var gateway = await GovernedGateway.StartAsync(
            "--Mqtt:MaxOutboundQueue=64", "--Limits:MaxOutboundQueueBytes=65536", "--Limits:SlowConsumerGrace=00:00:10", "--Limits:TcpUserTimeout=00:00:05",
            "--Limits:SocketSendBufferBytes=16384", "--Limits:PublisherBackPressureWait=00:00:00");
        using var zombie = await ZombieClient.SubscribeAndStopReadingAsync(gateway.MqttPort, "zombie", "flood/#", MqttQualityOfService.AtMostOnce);
        Assert.True(gateway.Broker.TryGetClient("zombie", out var connection));
        Assert.Equal(5000, connection.ReadSocketState()?.UserTimeoutMilliseconds);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("firehose");
        var payload = new string('x', 1024);
        var maxQueued = 0;
        long maxBytes = 0;
        // Flood until the writer is stuck for good (its queue stays full across a round trip), not just briefly behind.
        for (var sent = 0; sent < 60_000 && connection.OutboundQueueLength < 32; sent += 200)
        {
            for (var i = 0; i < 200; i++)
            {
                await publisher.PublishAsync("flood/a", payload);
            }

            await publisher.SendAsync(MqttPingWriter.WritePingReq);
            Assert.Equal(MqttPacketType.PingResp, (await publisher.ReceiveAsync()).Type);
            maxQueued = Math.Max(maxQueued, connection.OutboundQueueLength);
            maxBytes = Math.Max(maxBytes, connection.OutboundQueueBytes);
        }

        Assert.NotEqual(0, connection.BehindSince);
        for (var i = 0; i < 500; i++)
        {
            await publisher.PublishAsync("flood/a", payload);
        }

        await publisher.SendAsync(MqttPingWriter.WritePingReq);
        Assert.Equal(MqttPacketType.PingResp, (await publisher.ReceiveAsync()).Type);
        maxQueued = Math.Max(maxQueued, connection.OutboundQueueLength);
        maxBytes = Math.Max(maxBytes, connection.OutboundQueueBytes);

        // Bounded: never more than the watermark (bytes may pass it by the one message that crossed it).
        Assert.InRange(maxQueued, 1, 64);
        Assert.InRange(maxBytes, 1, 65536 + 1024 + 16);
        Assert.True(await gateway.MetricAsync("accesslayer_mqtt_messages_dropped_total", ("reason", "slow_consumer")) >= 500);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.True(gateway.Broker.TryGetClient("zombie", out _), "evicted before the grace ran out");
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "slow_consumer")));

        // The close waits (bounded, on the clock) for a writer that will never drain, then aborts.
        for (var i = 0; i < 10 && gateway.Broker.TryGetClient("zombie", out _); i++)
        {
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.False(gateway.Broker.TryGetClient("zombie", out _));
        Assert.True(await zombie.IsClosedAsync(TimeSpan.FromSeconds(10)));

        // The rest of the node never noticed.
        await publisher.SendAsync(MqttPingWriter.WritePingReq);
        Assert.Equal(MqttPacketType.PingResp, (await publisher.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_persistent_subscriber_stuck_on_QoS_1_is_evicted_after_the_grace_and_loses_nothing()
    {
        // A wide inflight window lets QoS 1 fill the socket, so the writer's flush stalls; the rest waits in the
        // (bounded) session queue. A writer stalled past the grace means the peer is not reading: evict it.
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxOutboundQueue=64", "--Mqtt:MaxInflight=2000", "--Mqtt:MaxQueuedMessages=100000", "--Limits:SlowConsumerGrace=00:00:05");
        using var zombie = await ZombieClient.SubscribeAndStopReadingAsync(gateway.MqttPort, "laggard", "orders/#", MqttQualityOfService.AtLeastOnce, sessionExpiry: 600);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("shop");
        var payload = new string('o', 16 * 1024);
        var published = 0;
        for (var batch = 0; batch < 40; batch++)
        {
            for (var i = 1; i <= 50; i++, published++)
            {
                await publisher.PublishAsync("orders/" + published, payload, MqttQualityOfService.AtLeastOnce, packetId: (ushort)i);
            }

            for (var i = 1; i <= 50; i++)
            {
                Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
            }
        }

        Assert.True(gateway.Broker.TryGetClient("laggard", out _), "Not evicted before the grace.");
        for (var i = 0; i < 20 && gateway.Broker.TryGetClient("laggard", out _); i++)
        {
            // Past the grace maintenance evicts; the close gives a writer that cannot drain a bounded wait, then aborts.
            await gateway.AdvanceAsync(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.False(gateway.Broker.TryGetClient("laggard", out _));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "slow_consumer")));

        await using var back = await gateway.ConnectClientAsync();
        var connAck = await back.ConnectAsync("laggard", cleanStart: false, sessionExpiry: 600);
        Assert.True(connAck.SessionPresent);
        var received = new HashSet<string>();
        while (received.Count < published)
        {
            var (message, packetId, _, _) = await back.ReceivePublishAsync();
            await back.SendAckAsync(MqttPacketType.PubAck, packetId);
            received.Add(message.Topic);
        }

        Assert.Equal(published, received.Count);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task A_client_over_its_publish_rate_is_disconnected_with_0x96_on_5_0_and_closed_on_3_1_1(MqttProtocolVersion version)
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:PublishRate=5", "--Limits:PublishBurst=5");
        await using var steady = await gateway.ConnectClientAsync();
        await steady.ConnectAsync("steady", version);
        await using var chatty = await gateway.ConnectClientAsync();
        await chatty.ConnectAsync("chatty", version);

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                await steady.PublishAsync("t", "x");
            }

            // The PINGRESP says the broker has charged this round before the clock moves on.
            await steady.SendAsync(MqttPingWriter.WritePingReq);
            Assert.Equal(MqttPacketType.PingResp, (await steady.ReceiveAsync()).Type);
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
        }

        for (var i = 0; i < 6; i++)
        {
            await chatty.PublishAsync("t", "x");
        }

        if (version == MqttProtocolVersion.V500)
        {
            var disconnect = await chatty.ReceiveAsync();
            Assert.Equal(MqttReasonCode.MessageRateTooHigh, disconnect.AsDisconnect(version).ReasonCode);
        }

        Assert.True(await chatty.WaitForCloseAsync());
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "publish_rate")));
    }

    [Fact]
    public async Task A_client_over_its_byte_rate_is_disconnected_with_0x97()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Limits:PublishByteRate=1000");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("bulky");
        await client.PublishAsync("t", new string('b', 600));
        await client.PublishAsync("t", new string('b', 600));
        var disconnect = await client.ReceiveAsync();
        Assert.Equal(MqttReasonCode.QuotaExceeded, disconnect.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await client.WaitForCloseAsync());
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_disconnects_total", ("reason", "byte_rate")));
    }
}
