using System.Globalization;
using System.Text;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// Back-pressure across nodes, real processes: a subscriber on one node that takes its messages slower than a
/// publisher on another sends them holds the peer's forwarded batch until it drains, the publisher's node then
/// has more than two batches waiting for that peer and stops reading the publisher, and nothing is dropped.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetBackPressureTests(ITestOutputHelper output)
{
    private const int Count = 300;

    [Fact]
    public async Task A_slow_QoS_1_subscriber_on_another_node_paces_the_publisher_and_loses_nothing()
    {
        // Small everything, so the subscriber is behind after a few dozen messages: two in flight, forty queued at most
        // (pressing at twenty), batches of eight (the publisher's node presses past sixteen waiting), and a wait long
        // enough that no waiver lets the queue overflow meanwhile.
        await using var cluster = await FleetCluster.StartAsync(2, [
            "--Limits:PublisherBackPressureWait=00:00:10", "--Mqtt:MaxInflight=2", "--Mqtt:MaxQueuedMessages=40",
            "--Mqtt:MaxOutboundQueue=16", "--Limits:SocketSendBufferBytes=16384", "--Fleet:ForwardBatchMessages=8",
        ], output);
        await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(60));
        try
        {
            await using var subscriber = await RawMqttClient.OpenAsync(cluster.Nodes[1].MqttPort, receiveBufferSize: 4096);
            await subscriber.ConnectAsync("slow-reader");
            await subscriber.SubscribeAsync("fbp/#", MqttQualityOfService.AtLeastOnce);
            await using var publisher = await RawMqttClient.OpenAsync(cluster.Nodes[0].MqttPort);
            await publisher.ConnectAsync("fast-writer");
            var padding = new string('.', 1000);
            var publishing = Task.Run(async () =>
            {
                for (var i = 0; i < Count; i++)
                {
                    await publisher.PublishAsync("fbp/seq", string.Create(CultureInfo.InvariantCulture, $"{i:D6}|{padding}"), MqttQualityOfService.AtLeastOnce, (ushort)(i + 1));
                }
            });

            // The publisher's node waits for the peer: it has paused the publisher at least once before the subscriber reads.
            await Poll.UntilAsync(null, TimeSpan.FromSeconds(30), "the publisher's node paused it",
                async _ => await cluster.MetricAsync(cluster.Nodes[0], "accesslayer_fleet_forward_pauses_total") >= 1);
            for (var i = 0; i < Count; i++)
            {
                var (message, packetId, _, _) = await subscriber.ReceivePublishAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(i, int.Parse(Encoding.ASCII.GetString(message.Payload.Span[..6]), CultureInfo.InvariantCulture));
                await subscriber.SendAckAsync(MqttPacketType.PubAck, packetId);
            }

            await publishing;
            for (var i = 0; i < Count; i++)
            {
                Assert.Equal(MqttPacketType.PubAck, (await publisher.ReceiveAsync(TimeSpan.FromSeconds(30))).Type);
            }

            Assert.Equal(0, await cluster.MetricAsync(cluster.Nodes[1], "accesslayer_mqtt_messages_dropped_total{reason=\"queue_full\""));
            Assert.Equal(0, await cluster.MetricAsync(cluster.Nodes[1], "accesslayer_mqtt_messages_dropped_total{reason=\"slow_consumer\""));
            Assert.Equal(0, await cluster.MetricAsync(cluster.Nodes[0], "accesslayer_fleet_forward_dropped_total"));
        }
        finally
        {
            output.WriteLine(cluster.LogTails(20));
        }
    }
}
