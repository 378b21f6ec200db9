using System.Globalization;
using System.Text;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Security;

/// <summary>
/// Sessions belong to the identity that opened them: with authentication on, another user cannot take over
/// a client id's live or offline session (and inherit its subscriptions and queue); <c>Auth:ClientIdPrefix</c>
/// keeps users to their own client ids. Without authentication nothing changes.
/// </summary>
public sealed class SessionOwnershipTests
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(20);

    private static readonly string[] Users = ["--Mqtt:Users:alice=alice-pw", "--Mqtt:Users:bob=bob-pw", "--Mqtt:Users:ops=ops-pw"];

    [Fact]
    public async Task Another_user_is_refused_the_client_id_of_a_connected_mosquitto_sub_which_keeps_its_session()
    {
        await using var gateway = await GovernedGateway.StartAsync(Users);
        using var alice = PeerProcess.Start("mosquitto_sub",
        [
            "-h", "127.0.0.1", "-p", Port(gateway), "-V", "mqttv5", "-i", "shared", "-u", "alice", "-P", "alice-pw",
            "-c", "-x", "600", "-q", "1", "-t", "alice/inbox", "-C", "1", "-W", "20",
        ]);
        await TlsListenerTests.WaitForSubscriptionAsync(gateway, "shared");

        var bob = await PeerProcess.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", Port(gateway), "-V", "mqttv5", "-i", "shared", "-u", "bob", "-P", "bob-pw", "-t", "bob/x", "-m", "hi"], PeerTimeout);

        Assert.True(bob.ExitCode != 0, bob.ToString());
        Assert.Contains("not authori", bob.Stderr + bob.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.True(gateway.Broker.TryGetClient("shared", out var owner));
        Assert.Equal("alice", owner.Identity);

        // Alice's connection and subscription are untouched: the next message still reaches her.
        await using var ops = await gateway.ConnectClientAsync();
        await ops.ConnectAsync(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "ops-1", CleanStart = true, UserName = "ops", Password = Encoding.UTF8.GetBytes("ops-pw") });
        await ops.PublishAsync("alice/inbox", "for alice", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttPacketType.PubAck, (await ops.ReceiveAsync()).Type);
        var received = await alice.WaitAsync(PeerTimeout);
        Assert.True(received.ExitCode == 0, received.ToString());
        Assert.Equal("for alice", received.Stdout.Trim());
    }

    [Fact]
    public async Task Another_user_cannot_resume_an_offline_session_and_its_queue_3_1_1_gets_return_code_5()
    {
        await using var gateway = await GovernedGateway.StartAsync(Users);
        await using (var alice = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.Success, (await alice.ConnectAsync(Connect("shared", "alice", expiry: 600))).ReasonCode);
            await alice.SubscribeAsync("alice/inbox", MqttQualityOfService.AtLeastOnce);
            await alice.DisconnectAsync();
        }

        await using var ops = await gateway.ConnectClientAsync();
        await ops.ConnectAsync(Connect("ops-1", "ops"));
        await ops.PublishAsync("alice/inbox", "queued for alice", MqttQualityOfService.AtLeastOnce, packetId: 1);
        Assert.Equal(MqttPacketType.PubAck, (await ops.ReceiveAsync()).Type);

        await using (var bob = await gateway.ConnectClientAsync())
        {
            var refused = await bob.ConnectAsync(Connect("shared", "bob", expiry: 600));
            Assert.Equal(MqttReasonCode.NotAuthorized, refused.ReasonCode);
            Assert.True(await bob.WaitForCloseAsync());
        }

        await using (var bob311 = await gateway.ConnectClientAsync())
        {
            var refused = await bob311.ConnectAsync(Connect("shared", "bob", version: MqttProtocolVersion.V311, cleanStart: true));
            Assert.Equal(MqttConnectReturnCode.NotAuthorized, refused.ReturnCode);
        }

        // Neither CONNECT disturbed the session: alice resumes it and gets what was queued.
        await using var back = await gateway.ConnectClientAsync();
        var resumed = await back.ConnectAsync(Connect("shared", "alice", expiry: 600));
        Assert.True(resumed.SessionPresent);
        var (message, _, _, _) = await back.ReceivePublishAsync();
        Assert.Equal("queued for alice", Encoding.UTF8.GetString(message.Payload.Span));
    }

    [Fact]
    public async Task The_same_user_still_takes_over_its_own_session()
    {
        await using var gateway = await GovernedGateway.StartAsync(Users);
        await using var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync(Connect("alice-phone", "alice", expiry: 600));
        await first.SubscribeAsync("alice/inbox", MqttQualityOfService.AtLeastOnce);

        await using var second = await gateway.ConnectClientAsync();
        var connAck = await second.ConnectAsync(Connect("alice-phone", "alice", expiry: 600));

        Assert.Equal(MqttReasonCode.Success, connAck.ReasonCode);
        Assert.True(connAck.SessionPresent);
        Assert.Equal(MqttReasonCode.SessionTakenOver, (await first.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task Without_authentication_any_client_takes_over_as_before()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var first = await gateway.ConnectClientAsync();
        await first.ConnectAsync(Connect("shared", "alice", expiry: 600));

        // No credentials are checked, so the user name is only a claim: it owns nothing.
        await using var second = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await second.ConnectAsync(Connect("shared", "bob", expiry: 600))).ReasonCode);
        Assert.Equal(MqttReasonCode.SessionTakenOver, (await first.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task A_client_id_prefix_keeps_each_user_to_its_own_ids_and_assigns_ids_inside_it()
    {
        await using var gateway = await GovernedGateway.StartAsync([.. Users, "--Auth:ClientIdPrefix=%u-", "--Mqtt:AllowAnonymous=true"]);
        await using (var own = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.Success, (await own.ConnectAsync(Connect("alice-phone", "alice"))).ReasonCode);
        }

        await using (var foreign = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.ClientIdentifierNotValid, (await foreign.ConnectAsync(Connect("bob-phone", "alice"))).ReasonCode);
        }

        await using (var anonymous = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.ClientIdentifierNotValid, (await anonymous.ConnectAsync("alice-tablet")).ReasonCode);
        }

        await using var assigned = await gateway.ConnectClientAsync();
        var connAck = await assigned.ConnectAsync(Connect(string.Empty, "bob"));
        Assert.Equal(MqttReasonCode.Success, connAck.ReasonCode);
        Assert.StartsWith("bob-", connAck.AssignedClientIdentifier, StringComparison.Ordinal);
    }

    private static MqttConnectPacket Connect(string clientId, string user, uint expiry = 0, MqttProtocolVersion version = MqttProtocolVersion.V500, bool cleanStart = false) => new()
    {
        ProtocolVersion = version,
        ClientId = clientId,
        CleanStart = cleanStart,
        SessionExpiryInterval = expiry,
        UserName = user,
        Password = Encoding.UTF8.GetBytes(user + "-pw"),
    };

    private static string Port(GovernedGateway gateway) => gateway.MqttPort.ToString(CultureInfo.InvariantCulture);
}
