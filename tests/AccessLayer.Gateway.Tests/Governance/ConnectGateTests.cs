using System.Globalization;
using System.Text;
using AccessLayer.Gateway.Governance;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>
/// What the CONNECT gate counts for flapping: only CONNECTs that passed authentication, per client id and
/// source address, and nothing at all on defaults, so neither a stranger nor a reconnect-heavy test suite
/// gets a client id banned.
/// </summary>
public sealed class ConnectGateTests
{
    [Fact]
    public async Task A_fixed_client_id_reconnecting_quickly_with_mosquitto_pub_is_never_banned_on_defaults()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var port = gateway.MqttPort.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < 25; i++)
        {
            var result = await PeerProcess.RunAsync("mosquitto_pub",
                ["-h", "127.0.0.1", "-p", port, "-i", "suite-client", "-q", "1", "-t", "suite/t", "-m", i.ToString(CultureInfo.InvariantCulture)],
                TimeSpan.FromSeconds(20));
            Assert.True(result.ExitCode == 0, $"connect {i + 1}: {result}");
        }

        Assert.Equal(0, await gateway.MetricAsync("accesslayer_mqtt_connections_rejected_total", ("reason", "banned")));
        Assert.Empty(gateway.Services.GetRequiredService<FlappingDetector>().Bans());
    }

    [Fact]
    public async Task CONNECTs_refused_by_authentication_do_not_count_so_a_stranger_cannot_get_a_client_id_banned()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:Users:alice=alice-pw", "--Limits:FlappingMaxConnects=3");
        for (var i = 0; i < 10; i++)
        {
            await using var stranger = await gateway.ConnectClientAsync();
            var refused = await stranger.ConnectAsync(Connect("alice-phone", "alice", "guess-" + i.ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(MqttReasonCode.BadUserNameOrPassword, refused.ReasonCode);
        }

        await using var owner = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Success, (await owner.ConnectAsync(Connect("alice-phone", "alice", "alice-pw"))).ReasonCode);
        Assert.Empty(gateway.Services.GetRequiredService<FlappingDetector>().Bans());
    }

    [Fact]
    public async Task Authenticated_flapping_is_still_banned_when_enabled()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:Users:alice=alice-pw", "--Limits:FlappingMaxConnects=2");
        for (var i = 0; i < 2; i++)
        {
            await using var client = await gateway.ConnectClientAsync();
            Assert.Equal(MqttReasonCode.Success, (await client.ConnectAsync(Connect("alice-phone", "alice", "alice-pw"))).ReasonCode);
            await client.DisconnectAsync();
        }

        await using var third = await gateway.ConnectClientAsync();
        Assert.Equal(MqttReasonCode.Banned, (await third.ConnectAsync(Connect("alice-phone", "alice", "alice-pw"))).ReasonCode);
        var ban = Assert.Single(gateway.Services.GetRequiredService<FlappingDetector>().Bans());
        Assert.Equal(("alice-phone", "127.0.0.1"), (ban.ClientId, ban.Address));
    }

    private static MqttConnectPacket Connect(string clientId, string user, string password) => new()
    {
        ProtocolVersion = MqttProtocolVersion.V500,
        ClientId = clientId,
        CleanStart = true,
        UserName = user,
        Password = Encoding.UTF8.GetBytes(password),
    };
}
