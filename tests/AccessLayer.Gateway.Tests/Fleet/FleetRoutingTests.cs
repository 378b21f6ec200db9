using System.Net.Http.Headers;
using System.Text.Json;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Clients;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>Three real gateway processes and a real redis-server, shared by the tests of this class (each uses its own topics and client ids).</summary>
public sealed class ThreeNodeFleet : IAsyncLifetime
{
    internal FleetCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await FleetCluster.StartAsync(3);
        await Cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The fleet as MQTT clients see it: a publish on one node reaches subscribers on the others (3.1.1 and
/// 5.0, real mosquitto clients), shared groups span nodes, retained messages are everywhere, sessions
/// move between nodes with what they hold, and one client id has one connection fleet-wide.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetRoutingTests(ThreeNodeFleet fleet, ITestOutputHelper output) : IClassFixture<ThreeNodeFleet>
{
    private FleetCluster Cluster => fleet.Cluster;

    [Theory]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task A_publish_on_one_node_reaches_subscribers_on_the_two_others(string version)
    {
        await using var clients = new ProcessGroup();
        var topic = $"route/{version}/{Guid.NewGuid():N}";
        var second = await MosquittoSubscriber.StartAsync("127.0.0.1", Cluster.Nodes[1].MqttPort, clients, "sub-node1", version, ["-t", topic, "-q", "1"]);
        var third = await MosquittoSubscriber.StartAsync("127.0.0.1", Cluster.Nodes[2].MqttPort, clients, "sub-node2", version, ["-t", topic, "-q", "1"]);

        await MosquittoPublisher.RunAsync("127.0.0.1", Cluster.Nodes[0].MqttPort, clients, "pub-node0", version, ["-t", topic, "-m", "across", "-q", "1"]);

        try
        {
            Assert.Equal("across", Assert.Single(await second.WaitForPayloadAsync("across")).Payload);
            Assert.Equal("across", Assert.Single(await third.WaitForPayloadAsync("across")).Payload);
        }
        finally
        {
            clients.WriteTranscripts(output);
            output.WriteLine(Cluster.LogTails(20));
        }
    }

    [Fact]
    public async Task A_shared_subscription_with_members_on_two_nodes_gets_each_message_once()
    {
        var topic = $"shared/{Guid.NewGuid():N}";
        var group = "$share/g/" + topic;
        await using var memberA = await FleetMqttClient.StartAsync(Id("sa"), [Cluster.Nodes[1].MqttPort], group);
        await using var memberB = await FleetMqttClient.StartAsync(Id("sb"), [Cluster.Nodes[2].MqttPort], group);
        await using var publisher = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
        await publisher.ConnectAsync(Id("sp"));

        for (ushort i = 1; i <= 20; i++)
        {
            await publisher.PublishAsync(topic, $"m{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
            Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
        }

        await Poll.UntilAsync(null, TimeSpan.FromSeconds(20), "20 shared messages", _ => Task.FromResult(memberA.Received.Count + memberB.Received.Count >= 20));
        Assert.Equal(20, memberA.Received.Keys.Concat(memberB.Received.Keys).Distinct().Count());
        Assert.Empty(memberA.Received.Keys.Intersect(memberB.Received.Keys));
        Assert.NotEmpty(memberA.Received);
        Assert.NotEmpty(memberB.Received);
    }

    [Fact]
    public async Task A_retained_message_set_on_one_node_is_sent_to_a_subscriber_on_another()
    {
        await using var clients = new ProcessGroup();
        var topic = $"retained/{Guid.NewGuid():N}";
        await MosquittoPublisher.RunAsync("127.0.0.1", Cluster.Nodes[0].MqttPort, clients, "pub-retain", "mqttv5", ["-t", topic, "-m", "kept", "-q", "1", "-r"]);

        await Poll.UntilAsync(null, TimeSpan.FromSeconds(20), "the retained message on node 2", async ct =>
        {
            await using var subscriber = await RawMqttClient.OpenAsync(Cluster.Nodes[2].MqttPort);
            await subscriber.ConnectAsync(Id("rs"));
            await subscriber.SubscribeAsync(topic);
            var packet = await subscriber.TryReceiveAsync(TimeSpan.FromSeconds(1));
            return packet is { Type: MqttPacketType.Publish };
        });
    }

    [Fact]
    public async Task A_persistent_session_resumes_on_another_node_with_its_subscription_and_queued_messages()
    {
        var id = Id("mv");
        var topic = $"move/{Guid.NewGuid():N}";
        await using (var first = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort))
        {
            await first.ConnectAsync(id, cleanStart: true, sessionExpiry: 600);
            await first.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
            await first.DisconnectAsync();
        }

        await using (var publisher = await RawMqttClient.OpenAsync(Cluster.Nodes[1].MqttPort))
        {
            await publisher.ConnectAsync(Id("mp"));
            for (ushort i = 1; i <= 3; i++)
            {
                await publisher.PublishAsync(topic, $"q{i}", MqttQualityOfService.AtLeastOnce, packetId: i);
                Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
            }
        }

        await using var moved = await RawMqttClient.OpenAsync(Cluster.Nodes[2].MqttPort);
        var connAck = await moved.ConnectAsync(id, cleanStart: false, sessionExpiry: 600);
        Assert.True(connAck.SessionPresent);
        var payloads = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (message, packetId, _, _) = await moved.ReceivePublishAsync(TimeSpan.FromSeconds(10));
            payloads.Add(System.Text.Encoding.UTF8.GetString(message.Payload.Span));
            await moved.SendAckAsync(MqttPacketType.PubAck, packetId);
        }

        Assert.Equal(["q1", "q2", "q3"], payloads);

        // The subscription moved too: a new publish on the first node reaches the session on the third.
        await using var again = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
        await again.ConnectAsync(Id("mp2"));
        await again.PublishAsync(topic, "live", MqttQualityOfService.AtLeastOnce, packetId: 9);
        Assert.Equal("live", System.Text.Encoding.UTF8.GetString((await moved.ReceivePublishAsync(TimeSpan.FromSeconds(10))).Message.Payload.Span));
    }

    [Fact]
    public async Task A_connected_client_is_taken_over_by_a_connect_on_another_node_with_disconnect_0x8E()
    {
        var id = Id("to");
        await using var first = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
        await first.ConnectAsync(id, cleanStart: false, sessionExpiry: 600);

        await using var second = await RawMqttClient.OpenAsync(Cluster.Nodes[1].MqttPort);
        var connAck = await second.ConnectAsync(id, cleanStart: false, sessionExpiry: 600);

        Assert.Equal(MqttReasonCode.Success, connAck.ReasonCode);
        Assert.True(connAck.SessionPresent);
        var disconnect = await first.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(MqttPacketType.Disconnect, disconnect.Type);
        Assert.Equal(MqttReasonCode.SessionTakenOver, disconnect.AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
        Assert.True(await first.WaitForCloseAsync());
    }

    [Fact]
    public async Task A_takeover_from_another_node_publishes_the_old_connections_will_fleet_wide()
    {
        var id = Id("wi");
        var willTopic = $"will/{Guid.NewGuid():N}";
        await using var watcher = await FleetMqttClient.StartAsync(Id("ww"), [Cluster.Nodes[2].MqttPort], willTopic);
        await using var first = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
        await first.ConnectAsync(id, cleanStart: false, sessionExpiry: 600, will: new MqttWillMessage { Topic = willTopic, Payload = "gone"u8.ToArray() });

        await using var second = await RawMqttClient.OpenAsync(Cluster.Nodes[1].MqttPort);
        await second.ConnectAsync(id, cleanStart: false, sessionExpiry: 600);

        await Poll.UntilAsync(null, TimeSpan.FromSeconds(20), "the will on node 2", _ => Task.FromResult(watcher.Received.ContainsKey("gone")));
    }

    [Fact]
    public async Task Two_connects_of_one_client_id_on_two_nodes_at_once_leave_exactly_one_connected()
    {
        for (var round = 0; round < 5; round++)
        {
            var id = Id("race");
            await using var a = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
            await using var b = await RawMqttClient.OpenAsync(Cluster.Nodes[1].MqttPort);

            await Task.WhenAll(
                a.SendAsync(w => MqttConnectWriter.Write(w, Connect(id))),
                b.SendAsync(w => MqttConnectWriter.Write(w, Connect(id))));

            // Each either ends connected (CONNACK 0x00 and nothing after it) or is told to go (a refusal or DISCONNECT 0x8E) and closed.
            var outcomes = await Task.WhenAll(OutcomeAsync(a), OutcomeAsync(b));
            Assert.Equal(1, outcomes.Count(connected => connected));
        }
    }

    [Fact]
    public async Task The_membership_and_the_route_table_are_on_the_admin_api()
    {
        var topic = $"admin/{Guid.NewGuid():N}";
        await using var subscriber = await FleetMqttClient.StartAsync(Id("ad"), [Cluster.Nodes[2].MqttPort], topic);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Cluster.ManagementToken);

        using var nodes = JsonDocument.Parse(await http.GetStringAsync(new Uri(Cluster.Nodes[0].ManagementUri, "api/v1/fleet/nodes")));
        using var routes = JsonDocument.Parse(await http.GetStringAsync(new Uri(Cluster.Nodes[0].ManagementUri, "api/v1/fleet/routes")));

        Assert.Equal(3, nodes.RootElement.GetProperty("nodes").GetArrayLength());
        Assert.Contains(nodes.RootElement.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("mqtt").GetString() == Cluster.Nodes[2].MqttEndpoint && n.GetProperty("connections").GetInt32() >= 1);
        Assert.Contains(routes.RootElement.GetProperty("routes").EnumerateArray(), r => r.GetProperty("filter").GetString() == topic);
        Assert.Equal(3, await Cluster.MetricAsync(Cluster.Nodes[0], "accesslayer_fleet_nodes"));
    }

    [Fact]
    public async Task A_drain_sends_clients_to_a_live_peer_and_their_sessions_follow()
    {
        var drained = Cluster.Nodes[2];
        var id = Id("dr");
        var topic = $"drain/{Guid.NewGuid():N}";
        await using var client = await RawMqttClient.OpenAsync(drained.MqttPort);
        await client.ConnectAsync(id, cleanStart: true, sessionExpiry: 600);
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Cluster.ManagementToken);
        var drainUri = new Uri(drained.ManagementUri, "api/v1/drain");

        try
        {
            using (var started = await http.PostAsync(drainUri, null))
            {
                Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
            }

            var packet = await client.ReceiveAsync(TimeSpan.FromSeconds(15));
            var disconnect = packet.AsDisconnect(MqttProtocolVersion.V500);
            Assert.Equal(MqttReasonCode.UseAnotherServer, disconnect.ReasonCode);
            var peer = Cluster.Nodes.Single(n => n.MqttEndpoint == disconnect.ServerReference);
            Assert.NotEqual(drained, peer);

            await using var moved = await RawMqttClient.OpenAsync(peer.MqttPort);
            var connAck = await moved.ConnectAsync(id, cleanStart: false, sessionExpiry: 600);
            Assert.True(connAck.SessionPresent);
            await using var publisher = await RawMqttClient.OpenAsync(Cluster.Nodes[0].MqttPort);
            await publisher.ConnectAsync(Id("dp"));
            await publisher.PublishAsync(topic, "followed", MqttQualityOfService.AtLeastOnce, packetId: 1);
            Assert.Equal("followed", System.Text.Encoding.UTF8.GetString((await moved.ReceivePublishAsync(TimeSpan.FromSeconds(10))).Message.Payload.Span));
        }
        finally
        {
            using var cancelled = await http.DeleteAsync(drainUri);
        }
    }

    private static MqttConnectPacket Connect(string id) => new()
    {
        ProtocolVersion = MqttProtocolVersion.V500,
        ClientId = id,
        CleanStart = false,
        SessionExpiryInterval = 600,
    };

    /// <summary>True when the client is still connected two seconds after its CONNACK 0x00.</summary>
    private static async Task<bool> OutcomeAsync(RawMqttClient client)
    {
        var first = await client.TryReceiveAsync(TimeSpan.FromSeconds(15));
        if (first is not { Type: MqttPacketType.ConnAck } || first.AsConnAck(MqttProtocolVersion.V500).ReasonCode != MqttReasonCode.Success)
        {
            return false;
        }

        var next = await client.TryReceiveAsync(TimeSpan.FromSeconds(3));
        return next is null && !await client.WaitForCloseAsync(TimeSpan.FromMilliseconds(100));
    }

    private static string Id(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];
}
