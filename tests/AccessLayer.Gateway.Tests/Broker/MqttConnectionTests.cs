using System.Text;
using AccessLayer.Gateway.Tests.Infrastructure;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>Hostile and broken input on one connection: a protocol-level answer, a close, and everyone else unaffected.</summary>
public sealed class MqttConnectionTests
{
    [Fact]
    public async Task A_writer_that_fails_unexpectedly_closes_the_connection_instead_of_leaving_it_mute()
    {
        using var failures = new LoopFailureCounter();
        Fault<ISessionStore>? fault = null;
        await using var gateway = await InProcessGateway.StartAsync(services => fault = FaultInjection.Inject<ISessionStore>(services, nameof(ISessionStore.DequeueAsync), times: 0, () => new InjectedFaultException()));
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("mute");
        await subscriber.SubscribeAsync("writer/fault", MqttQualityOfService.AtLeastOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");

        // The subscriber's writer pulls the QoS 1 message from the session store, which fails once.
        fault!.Arm(1);
        await publisher.PublishAsync("writer/fault", "x", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.True(await subscriber.WaitForCloseAsync());
        Assert.Equal(1, fault.Fired);
        Assert.Equal(1, failures["mqtt_writer"]);
    }

    [Fact]
    public async Task Garbage_before_CONNECT_closes_the_connection_and_others_keep_working()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var healthy = await gateway.ConnectClientAsync();
        await healthy.ConnectAsync("healthy");
        await healthy.SubscribeAsync("t", MqttQualityOfService.AtMostOnce);

        await using var garbage = await gateway.ConnectClientAsync();
        await garbage.SendRawAsync(new byte[] { 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3 });
        Assert.True(await garbage.WaitForCloseAsync());

        await healthy.PublishAsync("t", "still here");
        var (message, _, _, _) = await healthy.ReceivePublishAsync();
        Assert.Equal("still here", Encoding.UTF8.GetString(message.Payload.Span));
    }

    [Fact]
    public async Task A_packet_before_CONNECT_closes_the_connection()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.SendAsync(MqttPingWriter.WritePingReq);
        Assert.Null(await client.TryReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task A_second_CONNECT_is_a_protocol_error(MqttProtocolVersion version)
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("twice", version);
        await client.SendAsync(w => MqttConnectWriter.Write(w, new MqttConnectPacket { ProtocolVersion = version, ClientId = "twice", CleanStart = true }));

        var answer = await client.TryReceiveAsync(TimeSpan.FromSeconds(5));
        if (version == MqttProtocolVersion.V500)
        {
            Assert.NotNull(answer);
            Assert.Equal(MqttReasonCode.ProtocolError, answer!.AsDisconnect(version).ReasonCode);
        }
        else
        {
            Assert.Null(answer);
        }

        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task An_oversized_packet_is_refused_from_its_header_alone_with_0x95()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:MaxPacketSize=1024");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("big");

        // PUBLISH QoS 0 declaring 10 MB; only the fixed header is ever sent.
        await client.SendRawAsync(new byte[] { 0x30, 0x80, 0x80, 0x80, 0x05 });
        var answer = await client.ReceiveAsync();
        Assert.Equal(MqttReasonCode.PacketTooLarge, answer.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task An_unknown_protocol_level_gets_CONNACK_unacceptable_protocol_version()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        // CONNECT, protocol name "MQTT", level 9.
        await client.SendRawAsync(new byte[] { 0x10, 0x0D, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x09, 0x02, 0x00, 0x3C, 0x00, 0x01, (byte)'x' });
        var answer = await client.ReceiveAsync();
        Assert.Equal(MqttPacketType.ConnAck, answer.Type);
        Assert.Equal(MqttConnectReturnCode.UnacceptableProtocolVersion, answer.AsConnAck(MqttProtocolVersion.V311).ReturnCode);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task A_malformed_PUBLISH_gets_DISCONNECT_0x81_in_5_0()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("malformed");
        // PUBLISH QoS 0 whose topic length (0x00FF) runs past the packet.
        await client.SendRawAsync(new byte[] { 0x30, 0x04, 0x00, 0xFF, (byte)'a', 0x00 });
        var answer = await client.ReceiveAsync();
        Assert.Equal(MqttReasonCode.MalformedPacket, answer.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task An_unknown_topic_alias_is_a_protocol_error()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("alias");
        await client.PublishAsync("ignored", "x", topicAlias: 7, omitTopic: true);
        var answer = await client.ReceiveAsync();
        Assert.Equal(MqttReasonCode.ProtocolError, answer.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task A_topic_alias_above_the_announced_maximum_gets_0x94()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:TopicAliasMaximum=4");
        await using var client = await gateway.ConnectClientAsync();
        var connAck = await client.ConnectAsync("alias-max");
        Assert.Equal(4, connAck.TopicAliasMaximum);
        await client.PublishAsync("t", "x", topicAlias: 5);
        var answer = await client.ReceiveAsync();
        Assert.Equal(MqttReasonCode.TopicAliasInvalid, answer.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task A_wildcard_in_a_PUBLISH_topic_is_refused()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("wild", MqttProtocolVersion.V311);
        await client.SendRawAsync(new byte[] { 0x30, 0x05, 0x00, 0x03, (byte)'a', (byte)'/', (byte)'#' });
        Assert.Null(await client.TryReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task A_message_resent_after_a_reconnect_carries_its_expiry_minus_the_time_it_waited()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("resend-expiry", sessionExpiry: 300);
        await subscriber.SubscribeAsync("expiry/#", MqttQualityOfService.AtLeastOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("resend-expiry-publisher");
        await publisher.PublishAsync("expiry/a", "x", MqttQualityOfService.AtLeastOnce, packetId: 1, messageExpiry: 60);

        // Received, never acknowledged; the connection dies and the client is back 20 s later.
        var (first, _, _, _) = await subscriber.ReceivePublishAsync();
        Assert.Equal(60u, first.MessageExpiryInterval);
        subscriber.Abort();
        await Governance.GovernedGateway.WaitUntilAsync(() => gateway.Broker.ConnectedClientCount == 1, "the subscriber's connection closed");
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(20));
        await using var again = await gateway.ConnectClientAsync();
        Assert.True((await again.ConnectAsync("resend-expiry", cleanStart: false, sessionExpiry: 300)).SessionPresent);

        // 3.3.2-6: the resend carries what is left of the interval, not the interval as first sent.
        var (resent, _, dup, _) = await again.ReceivePublishAsync();
        Assert.True(dup);
        Assert.Equal(40u, resent.MessageExpiryInterval);
    }
}
