using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// What happens to the sessions of a node killed with SIGKILL when their clients do not come back: a survivor
/// publishes their wills and, once their expiry interval has passed, ends them (grain, durable queue and durable
/// subscriptions), as the dead node would have. Real processes, real Redis.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetDepartedNodeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_nodes_wills_are_published_by_a_survivor_and_its_sessions_expire()
    {
        await using var cluster = await FleetCluster.StartAsync(2, output: output);
        await cluster.WaitForMembersAsync(2, TimeSpan.FromSeconds(60));
        var run = Guid.NewGuid().ToString("N")[..8];
        var willTopic = $"departed/{run}/will";
        try
        {
            var survivor = cluster.Nodes[1];
            await using var watcher = await RawMqttClient.OpenAsync(survivor.MqttPort);
            await watcher.ConnectAsync($"watcher-{run}");
            await watcher.SubscribeAsync(willTopic, MqttQualityOfService.AtLeastOnce);

            // On the node to be killed: a clean session with a will, and a persistent session (3 s expiry) with a durable subscription.
            var victim = cluster.Nodes[0];
            await using var withWill = await RawMqttClient.OpenAsync(victim.MqttPort);
            await withWill.ConnectAsync($"will-{run}", will: new MqttWillMessage { Topic = willTopic, Payload = "gone"u8.ToArray(), QualityOfService = MqttQualityOfService.AtLeastOnce });
            await using var persistent = await RawMqttClient.OpenAsync(victim.MqttPort);
            await persistent.ConnectAsync($"persistent-{run}", cleanStart: true, sessionExpiry: 3);
            await persistent.SubscribeAsync($"departed/{run}/data", MqttQualityOfService.AtLeastOnce);
            await Poll.UntilAsync(null, TimeSpan.FromSeconds(30), "the survivor knows the durable subscription",
                async _ => await cluster.MetricAsync(survivor, "accesslayer_fleet_durable_subscriptions") >= 1);

            victim.KillHard();

            var (will, packetId, _, _) = await watcher.ReceivePublishAsync(TimeSpan.FromSeconds(30));
            await watcher.SendAckAsync(MqttPacketType.PubAck, packetId);
            Assert.Equal(willTopic, will.Topic);
            Assert.Equal("gone"u8.ToArray(), will.Payload.ToArray());

            // The persistent session expires 3 s after the survivor found it: its durable subscription leaves the fleet.
            await Poll.UntilAsync(null, TimeSpan.FromSeconds(30), "the expired session's durable subscription gone",
                async _ => await cluster.MetricAsync(survivor, "accesslayer_fleet_durable_subscriptions") == 0);

            // Its client id starts afresh on the survivor: no session is present any more.
            await using var back = await RawMqttClient.OpenAsync(survivor.MqttPort);
            var connack = await back.ConnectAsync($"persistent-{run}", cleanStart: false, sessionExpiry: 3);
            Assert.False(connack.SessionPresent);
        }
        finally
        {
            output.WriteLine(cluster.LogTails(30));
        }
    }
}
