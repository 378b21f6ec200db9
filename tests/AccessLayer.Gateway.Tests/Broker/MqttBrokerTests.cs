using System.Text;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>Broker semantics over real sockets: sessions, takeover, flow control, authentication.</summary>
public sealed class MqttBrokerTests
{
    private static string Text(MqttApplicationMessage message) => Encoding.UTF8.GetString(message.Payload.Span);

    private sealed class ThreadRecordingAuthenticator : IMqttAuthenticator
    {
        public bool? RanOnThreadPool { get; private set; }

        public ValueTask<MqttAuthenticationDecision> AuthenticateAsync(MqttAuthenticationContext context, CancellationToken cancellationToken)
        {
            RanOnThreadPool = Thread.CurrentThread.IsThreadPoolThread;
            return ValueTask.FromResult(new MqttAuthenticationDecision(MqttAuthenticationResult.Allowed));
        }
    }

    [Theory]
    [InlineData("--Transport:Engine=Epoll", "--Transport:EpollInlineContinuations=true")]
    [InlineData("--Transport:Engine=Epoll", "--Transport:EpollInlineContinuations=false")]
    [InlineData("--Transport:Engine=Kestrel", "--Transport:InlineScheduling=false")]
    public async Task Authentication_never_runs_on_an_io_loop_thread(params string[] settings)
    {
        var authenticator = new ThreadRecordingAuthenticator();
        await using var gateway = await InProcessGateway.StartAsync(services => services.AddSingleton<IMqttAuthenticator>(authenticator), settings);
        await using var client = await gateway.ConnectClientAsync();

        Assert.Equal(MqttReasonCode.Success, (await client.ConnectAsync("auth-thread")).ReasonCode);
        Assert.True(authenticator.RanOnThreadPool);
    }

    [Fact]
    public async Task Takeover_closes_the_old_connection_with_DISCONNECT_0x8E()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync("same-id");
        await using var second = await gateway.ConnectClientAsync();
        await second.ConnectAsync("same-id");

        var disconnect = await first.ReceiveAsync();
        Assert.Equal(MqttReasonCode.SessionTakenOver, disconnect.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await first.WaitForCloseAsync());

        await second.SubscribeAsync("after/takeover", MqttQualityOfService.AtMostOnce);
        await second.PublishAsync("after/takeover", "ok");
        Assert.Equal("ok", Text((await second.ReceivePublishAsync()).Message));
    }

    [Fact]
    public async Task An_empty_client_id_is_assigned_one_in_5_0_and_rejected_without_clean_session_in_3_1_1()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var v5 = await gateway.ConnectClientAsync();
        var connAck = await v5.ConnectAsync(string.Empty);
        Assert.Equal(MqttReasonCode.Success, connAck.ReasonCode);
        Assert.False(string.IsNullOrEmpty(connAck.AssignedClientIdentifier));

        await using var v311 = await gateway.ConnectClientAsync();
        var refused = await v311.ConnectAsync(string.Empty, MqttProtocolVersion.V311, cleanStart: false);
        Assert.Equal(MqttConnectReturnCode.IdentifierRejected, refused.ReturnCode);
        Assert.True(await v311.WaitForCloseAsync());
    }

    [Fact]
    public async Task Static_users_refuse_a_wrong_password_with_the_versions_reason_code()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:Users:alice=secret", "--Mqtt:AllowAnonymous=false");
        await using var good = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await good.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "a", CleanStart = true, UserName = "alice", Password = "secret"u8.ToArray() })).ReasonCode);

        await using var bad5 = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, (await bad5.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "b", CleanStart = true, UserName = "alice", Password = "nope"u8.ToArray() })).ReasonCode);

        await using var bad311 = await gateway.ConnectClientAsync();
        Assert.Equal(MqttConnectReturnCode.BadUserNameOrPassword, (await bad311.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V311, ClientId = "c", CleanStart = true, UserName = "alice", Password = "nope"u8.ToArray() })).ReturnCode);

        await using var anonymous = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.NotAuthorized, (await anonymous.ConnectAsync("d")).ReasonCode);
    }

    [Fact]
    public async Task A_duplicate_QoS_2_PUBLISH_is_acknowledged_but_forwarded_once()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("sub");
        await subscriber.SubscribeAsync("q2", MqttQualityOfService.AtMostOnce);

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("pub");
        await publisher.PublishAsync("q2", "once", MqttQualityOfService.ExactlyOnce, packetId: 9);
        Assert.Equal(MqttPacketType.PubRec, (await publisher.ReceiveAsync()).Type);
        await publisher.PublishAsync("q2", "once", MqttQualityOfService.ExactlyOnce, packetId: 9, dup: true);
        Assert.Equal(MqttPacketType.PubRec, (await publisher.ReceiveAsync()).Type);
        await publisher.SendAckAsync(MqttPacketType.PubRel, 9);
        var pubComp = await publisher.ReceiveAsync();
        Assert.Equal(MqttPacketType.PubComp, pubComp.Type);
        Assert.Equal(MqttReasonCode.Success, pubComp.AsPubAck(MqttProtocolVersion.V500).ReasonCode);

        Assert.Equal("once", Text((await subscriber.ReceivePublishAsync()).Message));
        Assert.Null(await subscriber.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task QoS_2_outbound_completes_with_PUBREC_PUBREL_PUBCOMP()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("q2-sub");
        await subscriber.SubscribeAsync("q2/out", MqttQualityOfService.ExactlyOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("q2-pub");
        await publisher.PublishAsync("q2/out", "m", MqttQualityOfService.ExactlyOnce, packetId: 1);

        var (message, packetId, _, raw) = await subscriber.ReceivePublishAsync();
        Assert.Equal(MqttQualityOfService.ExactlyOnce, raw.QualityOfService);
        await subscriber.SendAckAsync(MqttPacketType.PubRec, packetId);
        var pubRel = await subscriber.ReceiveAsync();
        Assert.Equal(MqttPacketType.PubRel, pubRel.Type);
        Assert.Equal(packetId, pubRel.AsPubAck(MqttProtocolVersion.V500).PacketId);
        await subscriber.SendAckAsync(MqttPacketType.PubComp, packetId);
        Assert.Equal("m", Text(message));
    }

    [Fact]
    public async Task The_clients_receive_maximum_bounds_unacknowledged_deliveries()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("slow", receiveMaximum: 2);
        await subscriber.SubscribeAsync("flow");
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("fast");
        for (ushort i = 1; i <= 5; i++)
        {
            await publisher.PublishAsync("flow", $"m{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
        }

        var first = await subscriber.ReceivePublishAsync();
        var second = await subscriber.ReceivePublishAsync();
        Assert.Null(await subscriber.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));

        await subscriber.SendAckAsync(MqttPacketType.PubAck, first.PacketId);
        var third = await subscriber.ReceivePublishAsync();
        Assert.Equal(["m1", "m2", "m3"], new[] { Text(first.Message), Text(second.Message), Text(third.Message) });
        Assert.Null(await subscriber.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));

        await subscriber.SendAckAsync(MqttPacketType.PubAck, second.PacketId);
        await subscriber.SendAckAsync(MqttPacketType.PubAck, third.PacketId);
        Assert.Equal("m4", Text((await subscriber.ReceivePublishAsync()).Message));
        Assert.Equal("m5", Text((await subscriber.ReceivePublishAsync()).Message));
    }

    [Fact]
    public async Task Unacknowledged_messages_are_resent_with_DUP_when_the_session_resumes()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("resume", cleanStart: true, sessionExpiry: 600);
        await subscriber.SubscribeAsync("inflight");
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("resume-pub");
        await publisher.PublishAsync("inflight", "unacked", MqttQualityOfService.AtLeastOnce, packetId: 1);
        var original = await subscriber.ReceivePublishAsync();
        Assert.False(original.Dup);
        subscriber.Abort();
        await MqttBrokerMaintenanceTests.WaitUntilAsync(() => !gateway.Broker.TryGetClient("resume", out _));

        await publisher.PublishAsync("inflight", "queued", MqttQualityOfService.AtLeastOnce, packetId: 2);
        await using var resumed = await gateway.ConnectClientAsync();
        Assert.True((await resumed.ConnectAsync("resume", cleanStart: false, sessionExpiry: 600)).SessionPresent);
        var again = await resumed.ReceivePublishAsync();
        Assert.True(again.Dup);
        Assert.Equal(original.PacketId, again.PacketId);
        Assert.Equal("unacked", Text(again.Message));
        var queued = await resumed.ReceivePublishAsync();
        Assert.Equal("queued", Text(queued.Message));
        Assert.False(queued.Dup);
    }

    [Fact]
    public async Task The_offline_queue_is_bounded_and_keeps_the_newest()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:MaxQueuedMessages=3");
        var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("bounded", MqttProtocolVersion.V311, cleanStart: false);
        await subscriber.SubscribeAsync("q");
        await subscriber.DisconnectAsync();
        await subscriber.DisposeAsync();
        await MqttBrokerMaintenanceTests.WaitUntilAsync(() => !gateway.Broker.TryGetClient("bounded", out _));

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("bounded-pub", MqttProtocolVersion.V311);
        for (ushort i = 1; i <= 5; i++)
        {
            await publisher.PublishAsync("q", $"m{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
            Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        }

        await using var back = await gateway.ConnectClientAsync();
        Assert.True((await back.ConnectAsync("bounded", MqttProtocolVersion.V311, cleanStart: false)).SessionPresent);
        var received = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var publish = await back.ReceivePublishAsync();
            received.Add(Text(publish.Message));
            await back.SendAckAsync(MqttPacketType.PubAck, publish.PacketId);
        }

        Assert.Equal(["m3", "m4", "m5"], received);
        Assert.Null(await back.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(2, gateway.Broker.Metrics.DroppedTotal("queue_full"));
    }

    [Fact]
    public async Task The_drop_new_policy_keeps_the_oldest_and_counts_each_refused_message_once()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:MaxQueuedMessages=3", "--Sessions:QueueDropPolicy=DropNew");
        var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("bounded-new", MqttProtocolVersion.V311, cleanStart: false);
        await subscriber.SubscribeAsync("qn");
        await subscriber.DisconnectAsync();
        await subscriber.DisposeAsync();
        await MqttBrokerMaintenanceTests.WaitUntilAsync(() => !gateway.Broker.TryGetClient("bounded-new", out _));

        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("bounded-new-pub", MqttProtocolVersion.V311);
        for (ushort i = 1; i <= 5; i++)
        {
            await publisher.PublishAsync("qn", $"m{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
            Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        }

        await using var back = await gateway.ConnectClientAsync();
        Assert.True((await back.ConnectAsync("bounded-new", MqttProtocolVersion.V311, cleanStart: false)).SessionPresent);
        var received = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var publish = await back.ReceivePublishAsync();
            received.Add(Text(publish.Message));
            await back.SendAckAsync(MqttPacketType.PubAck, publish.PacketId);
        }

        Assert.Equal(["m1", "m2", "m3"], received);
        Assert.Equal(2, gateway.Broker.Metrics.DroppedTotal("queue_full"));
    }

    [Fact]
    public async Task A_message_larger_than_the_clients_maximum_packet_size_is_not_sent()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("small", maximumPacketSize: 64);
        await subscriber.SubscribeAsync("size", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("big-pub");
        await publisher.PublishAsync("size", new string('x', 200));
        await publisher.PublishAsync("size", "fits");
        Assert.Equal("fits", Text((await subscriber.ReceivePublishAsync()).Message));
    }

    [Fact]
    public async Task Outbound_topic_aliases_replace_repeated_topics()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("aliased", topicAliasMaximum: 10);
        await subscriber.SubscribeAsync("alias/topic", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("alias-pub");
        await publisher.PublishAsync("alias/topic", "1");
        await publisher.PublishAsync("alias/topic", "2");

        var first = (await subscriber.ReceivePublishAsync()).Raw;
        Assert.Equal("alias/topic", first.GetTopicName());
        Assert.NotEqual(0, first.TopicAlias);
        var second = (await subscriber.ReceivePublishAsync()).Raw;
        Assert.True(second.TopicName.IsEmpty);
        Assert.Equal(first.TopicAlias, second.TopicAlias);
    }

    [Fact]
    public async Task Inbound_topic_aliases_are_resolved_for_subscribers()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var subscriber = await gateway.ConnectClientAsync();
        await subscriber.ConnectAsync("plain", MqttProtocolVersion.V311);
        await subscriber.SubscribeAsync("long/topic/name", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("alias-user");
        await publisher.PublishAsync("long/topic/name", "set", topicAlias: 1);
        await publisher.PublishAsync("long/topic/name", "use", topicAlias: 1, omitTopic: true);

        Assert.Equal("long/topic/name", (await subscriber.ReceivePublishAsync()).Message.Topic);
        var second = await subscriber.ReceivePublishAsync();
        Assert.Equal("long/topic/name", second.Message.Topic);
        Assert.Equal("use", Text(second.Message));
    }

    [Fact]
    public async Task No_local_subscriptions_do_not_receive_their_own_messages()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("self");
        await client.SubscribeAsync("echo/#", MqttQualityOfService.AtMostOnce, noLocal: true);
        await client.SubscribeAsync("loop", MqttQualityOfService.AtMostOnce, packetId: 2);
        await client.PublishAsync("echo/1", "mine");
        await client.PublishAsync("loop", "marker");
        Assert.Equal("loop", (await client.ReceivePublishAsync()).Message.Topic);
    }

    [Fact]
    public async Task Subscription_identifiers_are_sent_with_matching_messages()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("ids");
        await client.SubscribeAsync("sensors/+", MqttQualityOfService.AtMostOnce, subscriptionId: 42);
        await client.PublishAsync("sensors/a", "x");
        var raw = (await client.ReceivePublishAsync()).Raw;
        var ids = new List<uint>();
        foreach (var id in raw.SubscriptionIdentifiers)
        {
            ids.Add(id);
        }

        Assert.Equal([42u], ids);
    }

    [Fact]
    public async Task Shared_subscription_members_split_the_messages_round_robin()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var a = await gateway.ConnectClientAsync();
        await a.ConnectAsync("member-a");
        await a.SubscribeAsync("$share/g/jobs", MqttQualityOfService.AtMostOnce);
        await using var b = await gateway.ConnectClientAsync();
        await b.ConnectAsync("member-b");
        await b.SubscribeAsync("$share/g/jobs", MqttQualityOfService.AtMostOnce);
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("jobs-pub");
        for (var i = 0; i < 10; i++)
        {
            await publisher.PublishAsync("jobs", $"j{i}");
        }

        var received = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            received.Add(Text((await a.ReceivePublishAsync()).Message));
            received.Add(Text((await b.ReceivePublishAsync()).Message));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"j{i}").Order(), received.Order());
    }

    [Fact]
    public async Task Unacknowledged_messages_of_a_leaving_shared_member_go_to_the_others()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var leaving = await gateway.ConnectClientAsync();
        await leaving.ConnectAsync("leaver");
        await leaving.SubscribeAsync("$share/g/work");
        await using var staying = await gateway.ConnectClientAsync();
        await staying.ConnectAsync("stayer");
        await staying.SubscribeAsync("$share/g/work");
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("work-pub");
        for (ushort i = 1; i <= 4; i++)
        {
            await publisher.PublishAsync("work", $"w{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
        }

        var got = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var p = await staying.ReceivePublishAsync();
            got.Add(Text(p.Message));
            await staying.SendAckAsync(MqttPacketType.PubAck, p.PacketId);
            await leaving.ReceivePublishAsync();
        }

        // The leaver never acknowledges and its session ends with the connection.
        leaving.Abort();
        for (var i = 0; i < 2; i++)
        {
            var p = await staying.ReceivePublishAsync();
            got.Add(Text(p.Message));
            await staying.SendAckAsync(MqttPacketType.PubAck, p.PacketId);
        }

        Assert.Equal(["w1", "w2", "w3", "w4"], got.Order());
    }

    [Fact]
    public async Task Retained_messages_follow_retain_handling()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var publisher = await gateway.ConnectClientAsync();
        await publisher.ConnectAsync("ret-pub");
        await publisher.PublishAsync("ret/a", "kept", MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);

        await using var always = await gateway.ConnectClientAsync();
        await always.ConnectAsync("ret-0");
        await always.SubscribeAsync("ret/#", MqttQualityOfService.AtMostOnce);
        var delivered = await always.ReceivePublishAsync();
        Assert.True(delivered.Raw.Retain);
        Assert.Equal("kept", Text(delivered.Message));

        await using var never = await gateway.ConnectClientAsync();
        await never.ConnectAsync("ret-2");
        await never.SubscribeAsync("ret/#", MqttQualityOfService.AtMostOnce, retainHandling: MqttRetainHandling.DoNotSend);
        Assert.Null(await never.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));

        await using var ifNew = await gateway.ConnectClientAsync();
        await ifNew.ConnectAsync("ret-1");
        await ifNew.SubscribeAsync("ret/#", MqttQualityOfService.AtMostOnce, retainHandling: MqttRetainHandling.SendAtSubscribeIfNew);
        Assert.Equal("kept", Text((await ifNew.ReceivePublishAsync()).Message));
        await ifNew.SubscribeAsync("ret/#", MqttQualityOfService.AtMostOnce, packetId: 2, retainHandling: MqttRetainHandling.SendAtSubscribeIfNew);
        Assert.Null(await ifNew.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));

        await publisher.PublishAsync("ret/a", string.Empty, MqttQualityOfService.AtLeastOnce, packetId: 2, retain: true);
        Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        await using var late = await gateway.ConnectClientAsync();
        await late.ConnectAsync("ret-late");
        await late.SubscribeAsync("ret/#", MqttQualityOfService.AtMostOnce);
        Assert.Null(await late.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Metrics_and_health_are_served_on_the_management_port()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        await using var client = await gateway.ConnectClientAsync();
        await client.ConnectAsync("metered");
        await client.SubscribeAsync("m", MqttQualityOfService.AtMostOnce);
        await client.PublishAsync("m", "x");
        await client.ReceivePublishAsync();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.ManagementPort}") };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        var metrics = await http.GetStringAsync("/metrics");
        // An unlabelled series may be written "name{} value" (the OpenTelemetry exporter does): both are Prometheus text.
        Assert.Matches(@"(?m)^accesslayer_mqtt_connections(\{\})? 1$", metrics);
        Assert.Matches(@"(?m)^accesslayer_mqtt_messages_received_total(\{\})? 1$", metrics);
        Assert.Matches(@"(?m)^accesslayer_mqtt_messages_sent_total(\{\})? 1$", metrics);
    }
}
