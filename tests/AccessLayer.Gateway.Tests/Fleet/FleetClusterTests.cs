using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Clients;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Fleet.Infrastructure;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet;

/// <summary>
/// The fleet harness itself, against real processes: nodes start against one Redis, each serves
/// real MQTT clients, and a node killed with SIGKILL is gone while its peers serve on, then comes back.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(45);

    // The broker retries a claim for 15 s (MqttBroker.FleetClaimPatience); a CONNECT is answered within that and a margin.
    private static readonly TimeSpan ClaimPatience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_nodes_start_against_one_redis_and_each_answers_mqtt_connect()
    {
        var started = Wall.Now();
        await using var cluster = await FleetCluster.StartAsync(3, output: output);
        output.WriteLine($"3 nodes ready in {Wall.Since(started).TotalSeconds:0.0} s");
        await using var clients = new ProcessGroup();

        Assert.Equal(3, cluster.Nodes.Select(n => n.MqttPort).Distinct().Count());
        Assert.Equal(3, cluster.Nodes.Select(n => n.SiloPort).Distinct().Count());
        foreach (var node in cluster.Nodes)
        {
            await PublishAsync(clients, node, "up");
        }

        var members = await cluster.WaitForMembersAsync(3, MembershipTimeout);
        output.WriteLine($"3 members after {Wall.Since(started).TotalSeconds:0.0} s: {string.Join(", ", members)}");
        Assert.Equal(cluster.Nodes.Select(n => n.MqttEndpoint).Order(), members.Select(m => m.Mqtt).Order());
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

        var killed = Wall.Now();
        Assert.True(await FreePort.RefusesAsync(mqttPort), $"port {mqttPort} still accepts after SIGKILL");
        Assert.False(victim.IsRunning);
        // Until the fleet declares the node dead (Fleet:ProbeTimeout × MissedProbesLimit, about 10 s at most), a CONNECT
        // whose grain directory entry lived there waits and retries its claim (up to 15 s) rather than being refused: the
        // survivors must answer it all the same, within that patience.
        foreach (var survivor in cluster.Nodes.Where(n => n != victim))
        {
            await using var client = await RawMqttClient.OpenAsync(survivor.MqttPort);
            var connAck = await client.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V311, ClientId = $"fleet-{survivor.Name}-at-kill", CleanStart = true }, ClaimPatience);
            output.WriteLine($"{survivor.Name} answered CONNECT {Wall.Since(killed).TotalMilliseconds:0} ms after the kill: {connAck.ReasonCode}");
        }

        var survivors = await cluster.WaitForMembersAsync(2, MembershipTimeout);
        output.WriteLine($"2 members {Wall.Since(killed).TotalSeconds:0.0} s after the kill: {string.Join(", ", survivors)}");
        Assert.DoesNotContain(victim.MqttEndpoint, survivors.Select(m => m.Mqtt));

        // Every survivor accepts new clients again once the fleet has given the dead node up: ten fresh
        // client ids in a row on each (their session grains spread over the directory).
        var refused = 0;
        await Poll.UntilAsync(null, MembershipTimeout, "accepting 10 fresh CONNECTs in a row on every survivor", async ct =>
        {
            foreach (var survivor in cluster.Nodes.Where(n => n != victim))
            {
                for (var i = 0; i < 10; i++)
                {
                    await using var client = await RawMqttClient.OpenAsync(survivor.MqttPort);
                    MqttConnAckPacket connAck;
                    try
                    {
                        connAck = await client.ConnectAsync($"fleet-{Guid.NewGuid():N}"[..23], MqttProtocolVersion.V311).WaitAsync(Budget.Wait, ct);
                    }
                    catch (TimeoutException)
                    {
                        // A CONNECT whose grain directory entry lived on the dead node waits (and retries) until the fleet
                        // declares it dead, which on a loaded machine can take longer than one wait: not yet, ask again.
                        refused++;
                        return false;
                    }

                    if (connAck.ReasonCode != MqttReasonCode.Success)
                    {
                        refused++;
                        return false;
                    }
                }
            }

            return true;
        });
        output.WriteLine($"survivors accept every CONNECT {Wall.Since(killed).TotalSeconds:0.0} s after the kill ({refused} refused before)");
        foreach (var survivor in cluster.Nodes.Where(n => n != victim))
        {
            await PublishAsync(clients, survivor, "after-kill");
        }

        await victim.RestartAsync();

        Assert.Equal(mqttPort, victim.MqttPort);
        await PublishAsync(clients, victim, "after-restart");
        await cluster.WaitForMembersAsync(3, MembershipTimeout);
        clients.WriteTranscripts(output);
    }

    [Fact]
    public async Task A_node_stopped_gracefully_exits_and_leaves_the_fleet()
    {
        await using var cluster = await FleetCluster.StartAsync(2, output: output);
        await cluster.WaitForMembersAsync(2, MembershipTimeout);
        var leaving = cluster.Nodes[0];

        var stopping = Wall.Now();
        await leaving.StopAsync();
        output.WriteLine($"{leaving.Name} exited {Wall.Since(stopping).TotalSeconds:0.0} s after SIGTERM");

        Assert.False(leaving.IsRunning);
        Assert.True(await FreePort.RefusesAsync(leaving.MqttPort));
        var members = await cluster.WaitForMembersAsync(1, MembershipTimeout);
        Assert.Equal(cluster.Nodes[1].MqttEndpoint, Assert.Single(members).Mqtt);
    }

    /// <summary>A real client's CONNECT, CONNACK and QoS 1 PUBLISH/PUBACK against one node; fails unless it exits 0.</summary>
    private static Task PublishAsync(ProcessGroup clients, FleetNode node, string step) =>
        MosquittoPublisher.RunAsync("127.0.0.1", node.MqttPort, clients, $"pub-{node.Name}-{step}", "mqttv311",
            ["-i", $"fleet-{node.Name}-{step}-{Guid.NewGuid():N}"[..23], "-t", $"fleet/{step}", "-m", "hello", "-q", "1"]);
}
