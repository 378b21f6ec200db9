using System.Collections.Concurrent;
using System.Net;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// MLP sessions and pushes across a fleet of three real gateway processes and a real redis-server, with the
/// SDK's MlpClient as the device: push by user or device on any node, offline pushes waiting in Redis,
/// sessions moving between nodes, and concurrent connects of one device.
/// </summary>
public sealed class MlpFleetSessionsTests(MlpFleet fleet) : IClassFixture<MlpFleet>
{
    private static string PushJson(string target, string id, string text) =>
        $$"""{"{{target}}":"{{id}}","service":"chat","operation":"message.new","payloadText":"{{text}}"}""";

    private static MlpClient Device(MlpFleet.Node node, string deviceId, string userId, ConcurrentQueue<MlpPush> received)
    {
        var options = MlpFleet.ClientOptions(node, deviceId, userId);
        options.OnPush = (push, _) =>
        {
            received.Enqueue(push);
            return ValueTask.CompletedTask;
        };
        return new MlpClient(options);
    }

    private static string Text(MlpPush push) => Encoding.UTF8.GetString(push.Body.Span);

    [Fact]
    public async Task Push_by_user_id_on_one_node_reaches_the_users_devices_connected_to_other_nodes()
    {
        var phone = new ConcurrentQueue<MlpPush>();
        var tablet = new ConcurrentQueue<MlpPush>();
        await using var onNode2 = Device(fleet.Nodes[1], "fleet-phone", "fleet-erin", phone);
        await using var onNode3 = Device(fleet.Nodes[2], "fleet-tablet", "fleet-erin", tablet);
        await onNode2.ConnectAsync();
        await onNode3.ConnectAsync();

        var (status, body) = await fleet.Nodes[0].PushAsync(PushJson("userId", "fleet-erin", "hello erin"));

        // Node 1 holds neither device: both answers came from the nodes they are connected to.
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("""{"devices":2,"online":2,"queued":2,"dropped":0}""", body);
        await Eventually.TrueAsync(() => phone.Count == 1 && tablet.Count == 1, "both devices get the push");
        Assert.Equal(("hello erin", 1ul), (Text(phone.Single()), phone.Single().Sequence));
        Assert.Equal(("hello erin", 1ul), (Text(tablet.Single()), tablet.Single().Sequence));
    }

    [Fact]
    public async Task Pushes_to_an_offline_device_wait_in_Redis_and_arrive_once_in_order_on_another_node()
    {
        // Never connected anywhere yet: no node holds it, so the pushes can only wait in Redis.
        for (var i = 1; i <= 3; i++)
        {
            var (status, body) = await fleet.Nodes[1].PushAsync(PushJson("deviceId", "fleet-offline", "m" + i));
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal("""{"devices":1,"online":0,"queued":1,"dropped":0}""", body);
        }

        var received = new ConcurrentQueue<MlpPush>();
        await using (var later = Device(fleet.Nodes[2], "fleet-offline", "fleet-finn", received))
        {
            await later.ConnectAsync();
            await Eventually.TrueAsync(() => received.Count == 3, "the queued pushes arrive on node 3");
            Assert.Equal(["m1", "m2", "m3"], received.Select(Text));
            Assert.Equal([1ul, 2ul, 3ul], received.Select(p => p.Sequence));
            Assert.All(received, p => Assert.False(p.Redelivered));

            // The device's GOAWAY follows its ACKs: the node has them before it saves the session.
            await later.CloseAsync();
        }

        // Acknowledged: a connection to yet another node gets nothing again.
        var again = new ConcurrentQueue<MlpPush>();
        await using var third = Device(fleet.Nodes[0], "fleet-offline", "fleet-finn", again);
        await third.ConnectAsync();
        var (_, probe) = await fleet.Nodes[1].PushAsync(PushJson("deviceId", "fleet-offline", "m4"));
        Assert.Equal("""{"devices":1,"online":1,"queued":1,"dropped":0}""", probe);
        await Eventually.TrueAsync(() => again.Count == 1, "the new push arrives");
        Assert.Equal("m4", Text(again.Single()));
    }

    [Fact]
    public async Task A_device_moving_to_another_node_takes_its_unacknowledged_pushes_and_the_old_node_sends_GOAWAY()
    {
        var seen = new TaskCompletionSource<MlpPush>(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        var options = MlpFleet.ClientOptions(fleet.Nodes[1], "fleet-mover", "fleet-gail");
        options.OnPush = async (push, _) =>
        {
            seen.TrySetResult(push);
            await never.Task;
        };
        await using var onNode2 = new MlpClient(options);
        await onNode2.ConnectAsync();
        var (_, pushed) = await fleet.Nodes[0].PushAsync(PushJson("deviceId", "fleet-mover", "unacknowledged"));
        await Eventually.TrueAsync(() => seen.Task.IsCompleted, () => $"the push reaches node 2's device (node 1 answered {pushed}){Environment.NewLine}{Logs("fleet-mover")}");
        Assert.Equal(1ul, (await seen.Task).Sequence);

        // The app is still busy with the push (no ACK) when the device shows up on node 3 with its resume ticket.
        var received = new ConcurrentQueue<MlpPush>();
        await using var onNode3 = Device(fleet.Nodes[2], "fleet-mover", "fleet-gail", received);
        onNode3.ResumeTicket = onNode2.ResumeTicket;
        onNode3.LastProcessedPushSequence = 0;
        await onNode3.ConnectAsync();

        Assert.True(onNode3.SessionResumed);
        Assert.Equal(onNode2.SessionId, onNode3.SessionId);
        await Eventually.TrueAsync(() => received.Count == 1, "the unacknowledged push is re-delivered on node 3");
        var redelivered = received.Single();
        Assert.Equal((1ul, true, "unacknowledged"), (redelivered.Sequence, redelivered.Redelivered, Text(redelivered)));
        // The old app finishes and acknowledges on the old connection: node 2 no longer holds the session, so that ACK counts for nothing.
        never.SetResult();
        await Eventually.TrueAsync(() => !onNode2.IsConnected && onNode2.LastGoAway is not null, "node 2 closes the old connection with a GOAWAY");
        Assert.Equal(MlpErrorCode.SessionTakenOver, onNode2.LastGoAway?.Code);

        // The sequence continues on node 3.
        await fleet.Nodes[1].PushAsync(PushJson("deviceId", "fleet-mover", "next"));
        await Eventually.TrueAsync(() => received.Count == 2, "the next push arrives on node 3");
        Assert.Equal((2ul, "next"), (received.Last().Sequence, Text(received.Last())));
    }

    [Fact]
    public async Task Concurrent_connects_of_one_device_on_two_nodes_end_with_exactly_one_winner()
    {
        for (var round = 0; round < 3; round++)
        {
            var device = "fleet-race-" + round;
            var onNode2 = new ConcurrentQueue<MlpPush>();
            var onNode3 = new ConcurrentQueue<MlpPush>();
            await using var a = Device(fleet.Nodes[1], device, "fleet-hal", onNode2);
            await using var b = Device(fleet.Nodes[2], device, "fleet-hal", onNode3);
            var connects = await Task.WhenAll(ConnectOrRefusedAsync(a), ConnectOrRefusedAsync(b));

            // The loser is refused at HELLO or closed after WELCOME, with SESSION_TAKEN_OVER either way.
            await Eventually.TrueAsync(() => a.IsConnected != b.IsConnected, $"round {round}: exactly one connection stays ({string.Join(", ", connects)})");
            var (winner, loser, winnerPushes) = a.IsConnected ? (a, b, onNode2) : (b, a, onNode3);
            // The SDK reports the link closed a moment before it records the GOAWAY that closed it: wait for that too.
            await Eventually.TrueAsync(() => loser.LastGoAway is not null, $"round {round}: the loser got a GOAWAY ({string.Join(", ", connects)})");
            Assert.True(loser.LastGoAway?.Code == MlpErrorCode.SessionTakenOver, $"round {round}: the loser was told SESSION_TAKEN_OVER ({string.Join(", ", connects)}; {loser.LastGoAway}){Environment.NewLine}{Logs(device)}");

            var (_, body) = await fleet.Nodes[0].PushAsync(PushJson("deviceId", device, "to the winner"));
            Assert.Equal("""{"devices":1,"online":1,"queued":1,"dropped":0}""", body);
            await Eventually.TrueAsync(() => winnerPushes.Count == 1, "the push reaches the winner");
            Assert.True(winner.IsConnected);
        }
    }

    [Fact]
    public async Task A_device_cut_off_from_its_node_reconnects_to_another_endpoint_and_gets_its_pushes_once_in_order()
    {
        // Node 2 is reached through a relay the test cuts; node 3 is the client's second endpoint.
        await using var relay = LoopbackRelay.Start(fleet.Nodes[1].MlpPort);
        var received = new ConcurrentQueue<MlpPush>();
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = MlpFleet.ClientOptions(fleet.Nodes[1], "fleet-commuter", "fleet-ivy");
        options.Endpoint = relay.Endpoint;
        options.Endpoints = [new Uri($"tcp://127.0.0.1:{fleet.Nodes[2].MlpPort}")];
        options.WeakNetwork = new MlpWeakNetworkOptions();
        options.OnPush = async (push, _) =>
        {
            if (push.Sequence == 1)
            {
                busy.TrySetResult();
                await release.Task;
            }

            received.Enqueue(push);
        };
        await using var client = new MlpClient(options);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += _ => reconnected.TrySetResult();
        await client.ConnectAsync();
        Assert.Equal(relay.Endpoint, client.ConnectedEndpoint);

        // The app is busy with push 1 when the path to node 2 dies: its ACK never reaches node 2.
        await fleet.Nodes[0].PushAsync(PushJson("deviceId", "fleet-commuter", "p1"));
        await busy.Task.WaitAsync(TimeSpan.FromSeconds(10));
        relay.StopListening();
        relay.ResetAll();
        await Eventually.TrueAsync(() => !client.IsConnected, "the link to node 2 is lost");
        for (var i = 2; i <= 4; i++)
            await fleet.Nodes[0].PushAsync(PushJson("deviceId", "fleet-commuter", "p" + i));

        // The reconnect passes over the refused relay to node 3 and resumes the session there.
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(new Uri($"tcp://127.0.0.1:{fleet.Nodes[2].MlpPort}"), client.ConnectedEndpoint);
        Assert.True(client.SessionResumed);
        release.SetResult();

        await Eventually.TrueAsync(
            () => received.Count >= 4,
            () => $"every push arrives (got {string.Join(", ", received.Select(p => $"{p.Sequence}:{Text(p)}"))}){Environment.NewLine}{Logs("fleet-commuter")}");
        await Task.Delay(300);
        Assert.Equal(["p1", "p2", "p3", "p4"], received.Select(Text));
        Assert.Equal([1ul, 2ul, 3ul, 4ul], received.Select(p => p.Sequence));
    }

    private string Logs(string device) =>
        string.Join(Environment.NewLine, fleet.Nodes.SelectMany(n => n.Output.Split(Environment.NewLine).Where(l => l.Contains(device, StringComparison.Ordinal)).Select(l => $"node {n.Number}: {l}")));

    private static async Task<string> ConnectOrRefusedAsync(MlpClient client)
    {
        try
        {
            await client.ConnectAsync();
            return "welcomed";
        }
        catch (MlpException ex)
        {
            return "refused " + ex.Code;
        }
        catch (IOException ex)
        {
            return "closed " + ex.Message;
        }
    }
}
