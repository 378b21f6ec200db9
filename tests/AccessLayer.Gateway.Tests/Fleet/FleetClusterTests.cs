using AccessLayer.Gateway.Tests.Conformance.Clients;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// The fleet harness itself, against real processes: nodes start against one Redis, each serves
/// real MQTT clients, and a node killed with SIGKILL is gone while its peers serve on, then comes back.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Three_nodes_start_against_one_redis_and_each_answers_mqtt_connect()
    {
        await using var cluster = await FleetCluster.StartAsync(3, output: output);
        await using var clients = new ProcessGroup();

        Assert.Equal(3, cluster.Nodes.Select(n => n.MqttPort).Distinct().Count());
        Assert.Equal(3, cluster.Nodes.Select(n => n.SiloPort).Distinct().Count());
        foreach (var node in cluster.Nodes)
        {
            await PublishAsync(clients, node, "up");
        }

        Assert.Equal(3, (await cluster.WaitForMembersAsync(3, MembershipTimeout)).Count);
        clients.WriteTranscripts(output);
    }

    [Fact]
    public async Task A_node_killed_hard_refuses_connections_while_the_others_answer_and_answers_again_after_restart()
    {
        await using var cluster = await FleetCluster.StartAsync(3, output: output);
        await using var clients = new ProcessGroup();
        await cluster.WaitForMembersAsync(3, MembershipTimeout);
        var victim = cluster.Nodes[1];
        var mqttPort = victim.MqttPort;

        victim.KillHard();

        await Poll.UntilAsync(null, Budget.Wait, $"refusing connections on {mqttPort}", ct => FreePort.RefusesAsync(mqttPort, ct));
        Assert.False(victim.IsRunning);
        foreach (var survivor in cluster.Nodes.Where(n => n != victim))
        {
            await PublishAsync(clients, survivor, "after-kill");
        }

        await cluster.WaitForMembersAsync(2, MembershipTimeout);

        await victim.RestartAsync();

        Assert.Equal(mqttPort, victim.MqttPort);
        await PublishAsync(clients, victim, "after-restart");
        await cluster.WaitForMembersAsync(3, MembershipTimeout);
        clients.WriteTranscripts(output);
    }

    /// <summary>A real client's CONNECT, CONNACK and QoS 1 PUBLISH/PUBACK against one node; fails unless it exits 0.</summary>
    private static Task PublishAsync(ProcessGroup clients, FleetNode node, string step) =>
        MosquittoPublisher.RunAsync("127.0.0.1", node.MqttPort, clients, $"pub-{node.Name}-{step}", "mqttv311",
            ["-i", $"fleet-{node.Name}-{step}-{Guid.NewGuid():N}"[..23], "-t", $"fleet/{step}", "-m", "hello", "-q", "1"]);
}
