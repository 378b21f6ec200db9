using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>
/// The broker's quotas on the wire (subscriptions per client, sessions, retained messages, offline queue bytes):
/// each refusal with each version's code, the message flow that stays, the counter that says so.
/// </summary>
public sealed class MqttBrokerQuotaTests
{
    [Fact]
    public async Task Past_the_subscription_cap_a_new_filter_gets_0x97_and_replacing_one_still_works()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxSubscriptionsPerClient=2");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("subscriber");
        Assert.Equal(MqttReasonCode.GrantedQoS1, (await client.SubscribeAsync("a", packetId: 1)).ReasonCodes[0]);
        Assert.Equal(MqttReasonCode.GrantedQoS1, (await client.SubscribeAsync("b", packetId: 2)).ReasonCodes[0]);

        Assert.Equal(MqttReasonCode.QuotaExceeded, (await client.SubscribeAsync("c", packetId: 3)).ReasonCodes[0]);
        Assert.Equal(MqttReasonCode.GrantedQoS0, (await client.SubscribeAsync("a", MqttQualityOfService.AtMostOnce, packetId: 4)).ReasonCodes[0]);
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_quota_exceeded_total", ("quota", "subscriptions")));

        // Unsubscribing gives the room back.
        await client.SendAsync(w => MqttUnsubscribeWriter.Write(w, MqttProtocolVersion.V500, new MqttUnsubscribePacket { PacketId = 5, TopicFilters = ["b"] }));
        Assert.Equal(MqttPacketType.UnsubAck, (await client.ReceiveAsync()).Type);
        Assert.Equal(MqttReasonCode.GrantedQoS1, (await client.SubscribeAsync("c", packetId: 6)).ReasonCodes[0]);
    }

    [Fact]
    public async Task Past_the_subscription_cap_paho_on_3_1_1_gets_0x80_for_the_filter_over_it()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxSubscriptionsPerClient=2");
        var script = $$"""
            import paho.mqtt.client as mqtt, sys, threading
            done = threading.Event()
            granted = []
            def on_connect(c, u, f, rc): c.subscribe([("q/a", 1), ("q/b", 1), ("q/c", 1)])
            def on_subscribe(c, u, mid, qos): granted.extend(qos); done.set()
            c = mqtt.Client(client_id="paho-quota", protocol=mqtt.MQTTv311)
            c.on_connect = on_connect
            c.on_subscribe = on_subscribe
            c.connect("127.0.0.1", {{gateway.MqttPort}})
            c.loop_start()
            done.wait(10)
            c.loop_stop()
            print(",".join(str(q) for q in granted))
            """;
        var result = await PeerProcess.RunAsync("/usr/bin/python3", ["-c", script], TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("1,1,128", result.Stdout.Trim());
    }

    [Fact]
    public async Task Past_the_session_cap_a_new_client_id_gets_0x97_or_return_code_3_and_a_known_one_resumes()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Sessions:MaxSessions=2");
        await using var persistent = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await persistent.ConnectAsync("keeper", cleanStart: false, sessionExpiry: 3600)).ReasonCode);
        await persistent.DisconnectAsync();
        await using var second = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await second.ConnectAsync("second")).ReasonCode);

        await using var refused5 = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.QuotaExceeded, (await refused5.ConnectAsync("third")).ReasonCode);
        await using var refused311 = await gateway.ConnectClientAsync();
        await refused311.SendAsync(w => MqttConnectWriter.Write(w, new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V311, ClientId = "third", CleanStart = true }));
        var connAck = await refused311.ReceiveAsync();
        Assert.Equal(new byte[] { 0, 3 }, connAck.Body);

        // The offline session still counts and still resumes; a clean session that ends frees its place.
        await using var back = await gateway.ConnectClientAsync();
        var resumed = await back.ConnectAsync("keeper", cleanStart: false, sessionExpiry: 3600);
        Assert.True(resumed.SessionPresent);
        await second.DisconnectAsync();
        Assert.Equal(MqttReasonCode.Success, (await ConnectWhenFreedAsync(gateway, "third")).ReasonCode);
        Assert.True(await gateway.MetricAsync("accesslayer_mqtt_quota_exceeded_total", ("quota", "sessions")) >= 2);
    }

    [Fact]
    public async Task Past_the_retained_count_a_new_topic_is_routed_but_not_retained_and_an_existing_one_is_replaced()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Sessions:MaxRetainedMessages=1");
        await using var live = await gateway.ConnectClientAsync();
        await live.ConnectAsync("live");
        await live.SubscribeAsync("r/#", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");

        await publisher.PublishAsync("r/1", "one", retain: true);
        await publisher.PublishAsync("r/2", "two", retain: true);
        await publisher.PublishAsync("r/1", "one again", retain: true);

        // The live subscriber sees all three: the cap only decides what is kept.
        Assert.Equal("r/1", (await live.ReceivePublishAsync()).Message.Topic);
        Assert.Equal("r/2", (await live.ReceivePublishAsync()).Message.Topic);
        Assert.Equal("r/1", (await live.ReceivePublishAsync()).Message.Topic);

        await using var late = await gateway.ConnectClientAsync();
        await late.ConnectAsync("late");
        await late.SubscribeAsync("r/#", MqttQualityOfService.AtMostOnce);
        var retained = await late.ReceivePublishAsync();
        Assert.Equal(("r/1", "one again"), (retained.Message.Topic, System.Text.Encoding.UTF8.GetString(retained.Message.Payload.Span)));
        Assert.Null(await late.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_quota_exceeded_total", ("quota", "retained_messages")));
    }

    [Fact]
    public async Task Past_the_retained_bytes_mosquitto_pub_retained_message_is_not_kept()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Sessions:MaxRetainedBytes=1000");
        var port = gateway.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // QoS 1: mosquitto_pub exits after the PUBACK, so big/1 is stored before big/2 arrives (QoS 0 ones raced under load).
        var small = await PeerProcess.RunAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-t", "big/1", "-q", "1", "-r", "-m", new string('x', 600)], TimeSpan.FromSeconds(20));
        var large = await PeerProcess.RunAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-t", "big/2", "-q", "1", "-r", "-m", new string('y', 600)], TimeSpan.FromSeconds(20));
        Assert.True(small.ExitCode == 0 && large.ExitCode == 0, small + "\n" + large);

        await using var late = await gateway.ConnectClientAsync();
        await late.ConnectAsync("late");
        await late.SubscribeAsync("big/#", MqttQualityOfService.AtMostOnce);
        Assert.Equal("big/1", (await late.ReceivePublishAsync()).Message.Topic);
        Assert.Null(await late.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_quota_exceeded_total", ("quota", "retained_bytes")));
    }

    [Fact]
    public async Task An_offline_session_queue_is_bounded_by_bytes_and_keeps_the_newest()
    {
        // Each message counts 96 payload bytes + 3 topic bytes; 250 bytes hold two of them.
        await using var gateway = await GovernedGateway.StartAsync("--Sessions:MaxQueuedBytesPerSession=250");
        await using (var subscriber = await gateway.ConnectClientAsync())
        {
            await subscriber.ConnectAsync("offline", cleanStart: false, sessionExpiry: 3600);
            await subscriber.SubscribeAsync("q/#", MqttQualityOfService.AtLeastOnce);
            await subscriber.DisconnectAsync();

            // The broker closes once it handled the DISCONNECT: only then is the session offline (else q/1 may go out live).
            Assert.True(await subscriber.WaitForCloseAsync());
        }

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        for (ushort i = 1; i <= 5; i++)
        {
            await publisher.PublishAsync("q/" + i, new string((char)('0' + i), 96), MqttQualityOfService.AtLeastOnce, packetId: i);
            Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        }

        await using var back = await gateway.ConnectClientAsync();
        Assert.True((await back.ConnectAsync("offline", cleanStart: false, sessionExpiry: 3600)).SessionPresent);
        Assert.Equal("q/4", (await back.ReceivePublishAsync()).Message.Topic);
        Assert.Equal("q/5", (await back.ReceivePublishAsync()).Message.Topic);
        Assert.Equal(3, await gateway.MetricAsync("accesslayer_mqtt_messages_dropped_total", ("reason", "queue_full")));
    }

    /// <summary>CONNECTs until the session count has dropped (the clean session ends as its connection closes, asynchronously).</summary>
    private static async Task<MqttConnAckPacket> ConnectWhenFreedAsync(GovernedGateway gateway, string clientId)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var client = await gateway.ConnectClientAsync();
            var connAck = await client.ConnectAsync(clientId);
            if (connAck.ReasonCode != MqttReasonCode.QuotaExceeded || attempt >= 50)
                return connAck;
            await Task.Delay(20);
        }
    }
}
