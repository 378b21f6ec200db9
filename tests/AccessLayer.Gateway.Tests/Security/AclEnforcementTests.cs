using System.Text;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>
/// The ACL on the wire: SUBSCRIBE and PUBLISH refusals with each version's codes, wildcard
/// subscriptions that overlap a denied area (granted, each delivery checked), %c/%u rules from a
/// file, wills, the re-check of a resumed session, and mosquitto_sub and paho as real clients.
/// </summary>
public sealed class AclEnforcementTests
{
    [Fact]
    public async Task A_denied_subscription_gets_0x87_on_5_0()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe secret/#");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("v5");

        Assert.Equal(MqttReasonCode.NotAuthorized, (await client.SubscribeAsync("secret/plans", packetId: 1)).ReasonCodes[0]);
        Assert.Equal(MqttReasonCode.NotAuthorized, (await client.SubscribeAsync("secret/#", packetId: 2)).ReasonCodes[0]);
        Assert.Equal(MqttReasonCode.GrantedQoS1, (await client.SubscribeAsync("public/news", packetId: 3)).ReasonCodes[0]);
        Assert.Equal(2, await gateway.MetricAsync("accesslayer_mqtt_acl_denied_total", ("action", "subscribe")));
    }

    [Fact]
    public async Task A_denied_subscription_gets_0x80_on_3_1_1()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe secret/#");
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("v311", MqttProtocolVersion.V311);

        await client.SendAsync(w => MqttSubscribeWriter.Write(w, MqttProtocolVersion.V311, new MqttSubscribePacket
        {
            PacketId = 7,
            Subscriptions = [new MqttTopicSubscription("secret/plans", MqttQualityOfService.AtLeastOnce), new MqttTopicSubscription("public/news", MqttQualityOfService.AtLeastOnce)],
        }));
        var subAck = await client.ReceiveAsync();
        Assert.Equal(MqttPacketType.SubAck, subAck.Type);
        Assert.Equal(new byte[] { 0, 7, 0x80, 0x01 }, subAck.Body);
    }

    [Fact]
    public async Task A_denied_PUBLISH_gets_0x87_on_5_0_for_QoS_1_and_2_and_reaches_nobody()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * publish secret/#");
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("listener");
        await subscriber.SubscribeAsync("#", MqttQualityOfService.AtLeastOnce);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("leaker");
        await publisher.PublishAsync("secret/a", "0", MqttQualityOfService.AtMostOnce);
        await publisher.PublishAsync("secret/b", "1", MqttQualityOfService.AtLeastOnce, packetId: 1);
        var pubAck = (await publisher.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500);
        Assert.Equal((MqttPacketType.PubAck, MqttReasonCode.NotAuthorized), (pubAck.Type, pubAck.ReasonCode));
        await publisher.PublishAsync("secret/c", "2", MqttQualityOfService.ExactlyOnce, packetId: 2);
        var pubRec = (await publisher.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500);
        Assert.Equal((MqttPacketType.PubRec, MqttReasonCode.NotAuthorized), (pubRec.Type, pubRec.ReasonCode));

        // What is allowed still flows, and it is the first thing the subscriber sees.
        await publisher.PublishAsync("public/ok", "3", MqttQualityOfService.AtLeastOnce, packetId: 3);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        var (message, packetId, _, _) = await subscriber.ReceivePublishAsync();
        Assert.Equal("public/ok", message.Topic);
        await subscriber.SendAckAsync(MqttPacketType.PubAck, packetId);
        Assert.Equal(3, await gateway.MetricAsync("accesslayer_mqtt_acl_denied_total", ("action", "publish")));
    }

    [Fact]
    public async Task A_denied_PUBLISH_is_acknowledged_but_dropped_on_3_1_1()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * publish secret/#");
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("listener", MqttProtocolVersion.V311);
        await subscriber.SubscribeAsync("#", MqttQualityOfService.AtMostOnce);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("leaker", MqttProtocolVersion.V311);
        await publisher.PublishAsync("secret/b", "1", MqttQualityOfService.AtLeastOnce, packetId: 1);
        var pubAck = await publisher.ReceiveAsync();
        Assert.Equal(MqttPacketType.PubAck, pubAck.Type);
        Assert.Equal(new byte[] { 0, 1 }, pubAck.Body);

        await publisher.PublishAsync("secret/c", "2", MqttQualityOfService.ExactlyOnce, packetId: 2);
        Assert.Equal(MqttPacketType.PubRec, (await publisher.ReceiveAsync()).Type);
        await publisher.SendAckAsync(MqttPacketType.PubRel, 2);
        Assert.Equal(MqttPacketType.PubComp, (await publisher.ReceiveAsync()).Type);

        await publisher.PublishAsync("public/ok", "3");
        var (message, _, _, _) = await subscriber.ReceivePublishAsync();
        Assert.Equal("public/ok", message.Topic);
    }

    [Fact]
    public async Task Rules_from_a_file_give_each_user_and_client_its_own_topics()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, """
            # users see their own tree; devices publish only their own uplink
            allow  *          all        users/%u/#
            allow  *          publish    clients/%c/up
            allow  user:ops   subscribe  clients/+/up
            """);
        try
        {
            await using var gateway = await GovernedGateway.StartAsync(
                $"--Acl:File={file}", "--Acl:Default=Deny", "--Mqtt:Users:alice=pw", "--Mqtt:Users:ops=pw");
            await using var alice = await gateway.ConnectClientAsync();
            await alice.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "alice-phone", UserName = "alice", Password = Encoding.UTF8.GetBytes("pw"), CleanStart = true });
            await using var ops = await gateway.ConnectClientAsync();
            await ops.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "console", UserName = "ops", Password = Encoding.UTF8.GetBytes("pw"), CleanStart = true });

            Assert.Equal(MqttReasonCode.GrantedQoS1, (await alice.SubscribeAsync("users/alice/#", packetId: 1)).ReasonCodes[0]);
            Assert.Equal(MqttReasonCode.NotAuthorized, (await alice.SubscribeAsync("users/bob/#", packetId: 2)).ReasonCodes[0]);
            Assert.Equal(MqttReasonCode.NotAuthorized, (await alice.SubscribeAsync("others/#", packetId: 3)).ReasonCodes[0]);
            Assert.Equal(MqttReasonCode.GrantedQoS1, (await ops.SubscribeAsync("clients/+/up", packetId: 1)).ReasonCodes[0]);
            Assert.Equal(MqttReasonCode.NotAuthorized, (await ops.SubscribeAsync("clients/+/down", packetId: 2)).ReasonCodes[0]);

            await alice.PublishAsync("clients/someone-else/up", "no", MqttQualityOfService.AtLeastOnce, packetId: 10);
            Assert.Equal(MqttReasonCode.NotAuthorized, (await alice.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);
            await alice.PublishAsync("clients/alice-phone/up", "yes", MqttQualityOfService.AtLeastOnce, packetId: 11);
            Assert.Equal(MqttReasonCode.Success, (await alice.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);

            var (message, packetId, _, _) = await ops.ReceivePublishAsync();
            Assert.Equal(("clients/alice-phone/up", "yes"), (message.Topic, Encoding.UTF8.GetString(message.Payload.Span)));
            await ops.SendAckAsync(MqttPacketType.PubAck, packetId);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // Issue 11 interop: the suite's clean-up subscribes to '#' on a broker whose ACL refuses test/nosubscribe.
    [Theory]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task Mosquitto_sub_on_hash_is_granted_and_gets_everything_but_the_denied_topic(string version)
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe test/nosubscribe");
        using var subscriber = PeerProcess.Start("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", TlsListenerTests.Port(gateway.MqttPort), "-V", version, "-i", "cleanup", "-t", "#", "-q", "1", "-v", "-C", "2", "-W", "15"]);
        await TlsListenerTests.WaitForSubscriptionAsync(gateway, "cleanup");

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        await publisher.PublishAsync("test/nosubscribe", "hidden");
        await publisher.PublishAsync("test/nosubscribe", "hidden too", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        await publisher.PublishAsync("test/open", "seen");
        await publisher.PublishAsync("test/nosubscribe/child", "seen too", MqttQualityOfService.AtLeastOnce, packetId: 2);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);

        var result = await subscriber.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["test/open seen", "test/nosubscribe/child seen too"], result.Stdout.Trim().Split('\n'));
        Assert.Equal(2, await gateway.MetricAsync("accesslayer_mqtt_messages_dropped_total", ("reason", "not_authorized")));
    }

    [Fact]
    public async Task Paho_on_hash_is_granted_and_never_sees_the_denied_topic()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe test/nosubscribe");
        var script = """
            import sys, paho.mqtt.client as mqtt
            port = int(sys.argv[1])
            got = []
            def on_connect(client, userdata, flags, rc, properties=None):
                client.subscribe("#", qos=1)
            def on_subscribe(client, userdata, mid, codes, properties=None):
                print("suback " + ",".join(str(getattr(x, "value", x)) for x in codes), flush=True)
                client.publish("test/nosubscribe", "hidden", qos=1)
                client.publish("test/x", "seen", qos=1)
            def on_message(client, userdata, message):
                print(message.topic, flush=True)
                client.disconnect()
            c = mqtt.Client(client_id="paho-cleanup", protocol=mqtt.MQTTv5)
            c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
            c.connect("127.0.0.1", port)
            c.loop_forever(timeout=5)
            """;
        var result = await PeerProcess.RunAsync("/usr/bin/python3", ["-c", script, TlsListenerTests.Port(gateway.MqttPort)], TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["suback 1", "test/x"], result.Stdout.Trim().Split('\n'));
    }

    [Fact]
    public async Task Retained_and_offline_queued_messages_on_a_denied_topic_are_filtered_too()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe secret/#");
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("publisher");
        await publisher.PublishAsync("secret/plan", "r-hidden", MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        await publisher.PublishAsync("news", "r-seen", MqttQualityOfService.AtLeastOnce, packetId: 2, retain: true);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);

        await using (var first = await gateway.ConnectClientAsync())
        {
            await first.ConnectAsync("reader", cleanStart: true, sessionExpiry: 600);
            Assert.Equal(MqttReasonCode.GrantedQoS1, (await first.SubscribeAsync("#")).ReasonCodes[0]);
            var (retained, packetId, _, _) = await first.ReceivePublishAsync();
            Assert.Equal(("news", "r-seen"), (retained.Topic, Encoding.UTF8.GetString(retained.Payload.Span)));
            await first.SendAckAsync(MqttPacketType.PubAck, packetId);
            await first.DisconnectAsync();
        }

        await GovernedGateway.WaitUntilAsync(() => !gateway.Broker.TryGetClient("reader", out _), "reader offline");
        await publisher.PublishAsync("secret/plan", "q-hidden", MqttQualityOfService.AtLeastOnce, packetId: 3);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        await publisher.PublishAsync("news", "q-seen", MqttQualityOfService.AtLeastOnce, packetId: 4);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);

        // Queued while offline (no connection to check against): filtered on the way out.
        await using var second = await gateway.ConnectClientAsync();
        Assert.True((await second.ConnectAsync("reader", cleanStart: false, sessionExpiry: 600)).SessionPresent);
        var (queued, _, _, _) = await second.ReceivePublishAsync();
        Assert.Equal(("news", "q-seen"), (queued.Topic, Encoding.UTF8.GetString(queued.Payload.Span)));
        Assert.Null(await second.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_resumed_session_loses_the_subscriptions_the_current_rules_no_longer_allow()
    {
        // Alice's offline session subscribed to alice/# and shared/#; the rules change while she is away
        // (another identity can no longer resume her session: sessions belong to identities).
        var directory = Directory.CreateTempSubdirectory("acl-resume");
        try
        {
            var acl = Path.Combine(directory.FullName, "acl");
            File.WriteAllText(acl, "allow * subscribe %u/#\nallow * subscribe shared/#\nallow * publish #\n");
            await using var gateway = await GovernedGateway.StartAsync(
                "--Acl:Default=Deny", $"--Acl:File={acl}", "--SecurityReload:Watch=false",
                "--Mqtt:Users:alice=pw", "--Mqtt:Users:pub=pw");
            await using (var alice = await gateway.ConnectClientAsync())
            {
                await alice.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "phone", UserName = "alice", Password = Encoding.UTF8.GetBytes("pw"), CleanStart = true, SessionExpiryInterval = 600 });
                Assert.Equal(MqttReasonCode.GrantedQoS1, (await alice.SubscribeAsync("alice/#", packetId: 1)).ReasonCodes[0]);
                Assert.Equal(MqttReasonCode.GrantedQoS1, (await alice.SubscribeAsync("shared/#", packetId: 2)).ReasonCodes[0]);
                await alice.DisconnectAsync();
            }

            await GovernedGateway.WaitUntilAsync(() => !gateway.Broker.TryGetClient("phone", out _), "alice offline");
            File.WriteAllText(acl, "allow * subscribe shared/#\nallow * publish #\n");
            Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Admin.PostAsync("/api/v1/admin/reload", null)).StatusCode);

            await using var resumed = await gateway.ConnectClientAsync();
            var connAck = await resumed.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "phone", UserName = "alice", Password = Encoding.UTF8.GetBytes("pw"), CleanStart = false, SessionExpiryInterval = 600 });
            Assert.True(connAck.SessionPresent);

            var session = await gateway.Broker.Sessions.GetAsync("phone");
            Assert.Equal(["shared/#"], session!.Subscriptions.Select(s => s.TopicFilter));
            Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_acl_denied_total", ("action", "resume")));

            await using var publisher = await gateway.ConnectClientAsync();
            await publisher.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "pub", UserName = "pub", Password = Encoding.UTF8.GetBytes("pw"), CleanStart = true });
            await publisher.PublishAsync("alice/diary", "private");
            await publisher.PublishAsync("shared/board", "public");
            var (message, _, _, _) = await resumed.ReceivePublishAsync();
            Assert.Equal("shared/board", message.Topic);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_will_on_a_denied_topic_refuses_the_CONNECT()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * publish alarms/#");
        await using var client = await gateway.ConnectClientAsync();
        var connAck = await client.ConnectAsync("sneaky", will: new MqttWillMessage { Topic = "alarms/fire", Payload = Encoding.UTF8.GetBytes("!") });
        Assert.Equal(MqttReasonCode.NotAuthorized, connAck.ReasonCode);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Theory]
    [InlineData(4, "128")]
    [InlineData(5, "135")]
    public async Task Paho_sees_the_refusal_in_its_SUBACK(int protocol, string expected)
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=deny * subscribe secret/#");
        var script = """
            import sys, paho.mqtt.client as mqtt
            port, version = int(sys.argv[1]), int(sys.argv[2])
            v5 = version == 5
            c = mqtt.Client(client_id="paho-acl", protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
            def on_subscribe(client, userdata, mid, codes, properties=None):
                print(",".join(str(getattr(x, "value", x)) for x in codes), flush=True)
                client.disconnect()
            c.on_subscribe = on_subscribe
            c.connect("127.0.0.1", port)
            c.subscribe([("secret/x", 1), ("open/x", 1)])
            c.loop_forever(timeout=5)
            """;
        var result = await PeerProcess.RunAsync("/usr/bin/python3", ["-c", script, TlsListenerTests.Port(gateway.MqttPort), protocol.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected + ",1", result.Stdout.Trim());
    }
}
