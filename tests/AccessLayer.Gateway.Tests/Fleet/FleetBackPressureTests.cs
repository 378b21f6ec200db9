using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using AccessLayer.Gateway.Tests.Broker;
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
            await WaitForMetricAsync(cluster.Nodes[0], cluster.ManagementToken, "accesslayer_fleet_forward_pauses_total", v => v >= 1);
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

            Assert.Equal(0, await MetricAsync(cluster.Nodes[1], cluster.ManagementToken, "accesslayer_mqtt_messages_dropped_total{reason=\"queue_full\""));
            Assert.Equal(0, await MetricAsync(cluster.Nodes[1], cluster.ManagementToken, "accesslayer_mqtt_messages_dropped_total{reason=\"slow_consumer\""));
            Assert.Equal(0, await MetricAsync(cluster.Nodes[0], cluster.ManagementToken, "accesslayer_fleet_forward_dropped_total"));
        }
        finally
        {
            output.WriteLine(cluster.LogTails(20));
        }
    }

    private static async Task WaitForMetricAsync(FleetNode node, string token, string name, Func<double, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition(await MetricAsync(node, token, name)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} on {node.Name} never met the condition.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The sum of the series of a metric in the node's Prometheus text (0 when it has none yet): every series of
    /// <paramref name="name"/>, or only those starting with it when it opens a label set (<c>name{reason="x"</c>).
    /// </summary>
    private static async Task<double> MetricAsync(FleetNode node, string token, string name)
    {
        using var http = new HttpClient { BaseAddress = node.ManagementUri, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var text = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && (name.Contains('{', StringComparison.Ordinal) || line[name.Length] is ' ' or '{'))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
