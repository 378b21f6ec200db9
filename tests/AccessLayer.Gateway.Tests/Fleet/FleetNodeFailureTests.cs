using System.Collections.Concurrent;
using System.Diagnostics;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// The promise of the fleet under a crash: three nodes, 1,000 persistent QoS 1 subscribers spread over
/// them, publishers at a steady rate, one node killed with SIGKILL. Every message a publisher got a
/// PUBACK for reaches every subscriber of its topic (duplicates allowed), the killed node's clients
/// are back on the others within 30 s, and the killed node rejoins when restarted.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetNodeFailureTests(ITestOutputHelper output)
{
    private const int Subscribers = 1000;
    private const int Topics = 50;
    private static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Killing_a_node_loses_no_acknowledged_QoS_1_message_for_persistent_sessions()
    {
        await using var cluster = await FleetCluster.StartAsync(3);
        await cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(60));
        var ports = cluster.Nodes.Select(n => n.MqttPort).ToArray();
        var run = Guid.NewGuid().ToString("N")[..8];

        // Subscriber i starts on node i % 3 and moves on to the next node when its own dies.
        var starting = Enumerable.Range(0, Subscribers).Select(i =>
            FleetMqttClient.StartAsync($"k{run}-{i}", [ports[i % 3], ports[(i + 1) % 3], ports[(i + 2) % 3]], $"kill/{run}/{i % Topics}"));
        var subscribers = new List<FleetMqttClient>();
        foreach (var batch in starting.Chunk(100))
        {
            subscribers.AddRange(await Task.WhenAll(batch));
        }

        try
        {
            var victim = cluster.Nodes[1];
            var onVictim = subscribers.Where(s => s.CurrentPort == victim.MqttPort).ToList();
            Assert.True(onVictim.Count > 300, $"{onVictim.Count} subscribers on the victim");

            // Publishers on the two nodes that live; each records what was acknowledged to it.
            var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            using var stop = new CancellationTokenSource();
            var publishers = new[] { cluster.Nodes[0], cluster.Nodes[2] }
                .Select((node, p) => PublishAsync(node.MqttPort, $"p{run}-{p}", run, p, acknowledged, stop.Token))
                .ToArray();

            await Task.Delay(TimeSpan.FromSeconds(3));
            victim.KillHard();
            var killedAt = Stopwatch.GetTimestamp();

            // All clients back: every subscriber of the killed node reconnected to a survivor.
            var backWithin = await WaitAsync(() => onVictim.All(s => s.IsConnected && s.CurrentPort != victim.MqttPort), TimeSpan.FromSeconds(30));
            var backAfter = Stopwatch.GetElapsedTime(killedAt);
            Assert.True(backWithin, $"{onVictim.Count(s => !s.IsConnected || s.CurrentPort == victim.MqttPort)} clients of the killed node not back after 30 s");

            await Task.Delay(TimeSpan.FromSeconds(5));
            await stop.CancelAsync();
            var published = (await Task.WhenAll(publishers)).Sum();

            // Every acknowledged message at every subscriber of its topic.
            var expected = acknowledged.Keys.GroupBy(k => int.Parse(k.Split('/')[1])).ToDictionary(g => g.Key, g => g.ToList());
            bool AllDelivered() => subscribers.Select((s, i) => (s, i)).All(x =>
                !expected.TryGetValue(x.i % Topics, out var owed) || owed.All(m => x.s.Received.ContainsKey(m)));
            await WaitAsync(AllDelivered, TimeSpan.FromSeconds(60));
            var lost = subscribers.Select((s, i) => expected.TryGetValue(i % Topics, out var owed) ? owed.Count(m => !s.Received.ContainsKey(m)) : 0).Sum();
            var duplicates = subscribers.Sum(s => s.Received.Values.Sum(n => n - 1));
            output.WriteLine($"published {published}, acknowledged {acknowledged.Count}, subscribers {Subscribers} ({onVictim.Count} on the killed node), back after {backAfter.TotalSeconds:F1} s, lost {lost}, duplicates {duplicates}");
            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} messages acknowledged");
            Assert.Equal(0, lost);

            // The killed node comes back and rejoins the fleet.
            await victim.RestartAsync();
            await cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(60));
        }
        catch
        {
            output.WriteLine(cluster.LogTails(40));
            throw;
        }
        finally
        {
            await Task.WhenAll(subscribers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Publishes QoS 1 to the topics in turn, one at a time, recording each payload once its PUBACK arrived; returns how many it sent.</summary>
    private static async Task<int> PublishAsync(int port, string clientId, string run, int publisher, ConcurrentDictionary<string, int> acknowledged, CancellationToken stop)
    {
        await using var client = await RawMqttClient.OpenAsync(port);
        await client.ConnectAsync(clientId);
        var sent = 0;
        ushort packetId = 0;
        while (!stop.IsCancellationRequested)
        {
            var topic = sent % Topics;
            var payload = $"p{publisher}/{topic}/{sent}";
            packetId = (ushort)(packetId % 60000 + 1);
            await client.PublishAsync($"kill/{run}/{topic}", payload, MqttQualityOfService.AtLeastOnce, packetId);
            sent++;
            var ack = await client.TryReceiveAsync(TimeSpan.FromSeconds(10));
            if (ack is { Type: MqttPacketType.PubAck } && ack.AsPubAck(MqttProtocolVersion.V500).ReasonCode is MqttReasonCode.Success or MqttReasonCode.NoMatchingSubscribers)
            {
                acknowledged[payload] = 1;
            }

            try
            {
                await Task.Delay(PublishInterval, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return sent;
    }

    private static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return condition();
    }
}
