using System.Buffers;
using System.Globalization;
using System.Text;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// A persistent session resumed while a publish to it is on its way: the resuming node reads the session's durable
/// queue once, so every publish that matched without seeing the resumed subscription must be in Redis by then.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetResumeTests(ITestOutputHelper output)
{
    private const int Count = 300;

    [Fact]
    public async Task A_session_resumed_while_a_publish_to_it_is_held_by_back_pressure_gets_that_publish()
    {
        // The persistent session starts on node 1 and resumes on node 0. A slow reader on node 1 makes node 0 hold its
        // publisher (small limits as in FleetBackPressureTests, but a queue bound above Count, so nothing is dropped by
        // it): the publish being held was planned for node 1, which hands the session over before that publish gets there.
        await using var cluster = await FleetCluster.StartAsync(2, [
            "--Limits:PublisherBackPressureWait=00:00:10", "--Mqtt:MaxInflight=2", "--Mqtt:MaxQueuedMessages=400",
            "--Mqtt:MaxOutboundQueue=16", "--Limits:SocketSendBufferBytes=16384", "--Fleet:ForwardBatchMessages=8",
        ], output);
        await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(60));
        try
        {
            var node = cluster.Nodes[0];
            await using (var first = await RawMqttClient.OpenAsync(cluster.Nodes[1].MqttPort))
            {
                await first.ConnectAsync("resumer", sessionExpiry: 600);
                await first.SubscribeAsync("frs/#", MqttQualityOfService.AtLeastOnce);
                await first.DisconnectAsync();
            }

            await using var slow = await RawMqttClient.OpenAsync(cluster.Nodes[1].MqttPort, receiveBufferSize: 4096);
            await slow.ConnectAsync("slow-reader");
            await slow.SubscribeAsync("frs/#", MqttQualityOfService.AtLeastOnce);
            await using var publisher = await RawMqttClient.OpenAsync(node.MqttPort);
            await publisher.ConnectAsync("held-writer");
            var padding = new string('.', 1000);
            var publishing = Task.Run(async () =>
            {
                for (var i = 0; i < Count; i++)
                {
                    await publisher.PublishAsync("frs/seq", string.Create(CultureInfo.InvariantCulture, $"{i:D6}|{padding}"), MqttQualityOfService.AtLeastOnce, (ushort)(i + 1));
                }
            });

            await Poll.UntilAsync(null, TimeSpan.FromSeconds(30), "node 0 held its publisher",
                async _ => await cluster.MetricAsync(node, "accesslayer_fleet_forward_pauses_total") >= 1);

            // The session resumes on the publisher's node while the publisher is held; only then does the slow reader read.
            var claims = await cluster.MetricAsync(node, "accesslayer_fleet_session_claims_total");
            await using var resumed = await RawMqttClient.OpenAsync(node.MqttPort);
            var connecting = resumed.ConnectAsync(new MqttConnectPacket { ClientId = "resumer", ProtocolVersion = MqttProtocolVersion.V500, CleanStart = false, SessionExpiryInterval = 600 }, TimeSpan.FromSeconds(20));
            await Poll.UntilAsync(null, TimeSpan.FromSeconds(20), "node 0 claimed the resumed session",
                async _ => await cluster.MetricAsync(node, "accesslayer_fleet_session_claims_total") > claims);
            var draining = Task.Run(async () =>
            {
                for (var i = 0; i < Count; i++)
                {
                    var (_, packetId, _, _) = await slow.ReceivePublishAsync(TimeSpan.FromSeconds(30));
                    await slow.SendAckAsync(MqttPacketType.PubAck, packetId);
                }
            });
            Assert.True((await connecting).SessionPresent, "the session was not resumed");

            var received = await ReceiveAllAsync(resumed, Count);
            await publishing;
            await draining;
            var missing = Enumerable.Range(0, Count).Where(i => !received.Contains(i)).ToList();
            foreach (var member in cluster.Nodes)
            {
                output.WriteLine($"node {member.MqttPort}: deferred {await cluster.MetricAsync(member, "accesslayer_mqtt_messages_deferred_total")}, dropped {await cluster.MetricAsync(member, "accesslayer_mqtt_messages_dropped_total")}");
            }

            Assert.True(missing.Count == 0, $"the resumed session missed {string.Join(", ", missing)}");
        }
        finally
        {
            output.WriteLine(cluster.LogTails(20));
        }
    }

    [Fact]
    public async Task Durable_deliveries_a_full_session_queue_let_go_come_back_from_Redis_once_it_has_room()
    {
        // The session queue keeps about nine of these messages (its byte bound); Redis keeps them all (its bound is a count).
        const int messages = 30;
        await using var cluster = await FleetCluster.StartAsync(2, ["--Sessions:MaxQueuedBytesPerSession=10000"], output);
        await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(60));
        try
        {
            var node = cluster.Nodes[0];
            await using (var first = await RawMqttClient.OpenAsync(node.MqttPort))
            {
                await first.ConnectAsync("overflowing", sessionExpiry: 600);
                await first.SubscribeAsync("frq/#", MqttQualityOfService.AtLeastOnce);
                await first.DisconnectAsync();
            }

            await using (var publisher = await RawMqttClient.OpenAsync(cluster.Nodes[1].MqttPort))
            {
                await publisher.ConnectAsync("big-writer");
                var padding = new string('.', 1000);
                for (var i = 0; i < messages; i++)
                {
                    await publisher.PublishAsync("frq/big", string.Create(CultureInfo.InvariantCulture, $"{i:D6}|{padding}"), MqttQualityOfService.AtLeastOnce, (ushort)(i + 1));
                    Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync()).Type);
                }
            }

            await using var resumed = await RawMqttClient.OpenAsync(node.MqttPort);
            Assert.True((await resumed.ConnectAsync("overflowing", cleanStart: false, sessionExpiry: 600)).SessionPresent);
            var received = await ReceiveAllAsync(resumed, messages);
            var missing = Enumerable.Range(0, messages).Where(i => !received.Contains(i)).ToList();
            Assert.True(missing.Count == 0, $"the session missed {string.Join(", ", missing)}");
            Assert.True(await cluster.MetricAsync(node, "accesslayer_mqtt_messages_deferred_total") > 0, "no delivery was deferred: the queue bound did not apply");
            Assert.Equal(0, await cluster.MetricAsync(node, "accesslayer_mqtt_messages_dropped_total{reason=\"queue_full\""));
        }
        finally
        {
            output.WriteLine(cluster.LogTails(20));
        }
    }

    /// <summary>Acknowledges and records every PUBLISH until <paramref name="count"/> distinct ones arrived or none came for 15 s.</summary>
    private static async Task<HashSet<int>> ReceiveAllAsync(RawMqttClient client, int count)
    {
        var received = new HashSet<int>();
        while (received.Count < count)
        {
            var packet = await client.TryReceiveAsync(TimeSpan.FromSeconds(15));
            if (packet is null)
            {
                break;
            }

            if (packet.Type == MqttPacketType.Publish)
            {
                var publish = packet.AsPublish(MqttProtocolVersion.V500);
                received.Add(int.Parse(Encoding.ASCII.GetString(publish.Payload.Slice(0, 6).ToArray()), CultureInfo.InvariantCulture));
                await client.SendAckAsync(MqttPacketType.PubAck, publish.PacketId);
            }
        }

        return received;
    }
}
