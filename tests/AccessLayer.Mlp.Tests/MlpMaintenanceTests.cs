using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Mlp.Tests;

/// <summary>Handshake timeout and missed-heartbeat eviction, driven by the gateway's fake clock.</summary>
public sealed class MlpMaintenanceTests
{
    [Fact]
    public async Task A_connection_that_sends_no_HELLO_in_time_gets_GOAWAY_HANDSHAKE_TIMEOUT()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:HandshakeTimeoutSeconds=10"]);
        await using var raw = await gateway.OpenRawAsync();
        await gateway.WaitForConnectionsAsync(1);

        gateway.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, gateway.RunMaintenance());
        // The hosted pass also ticks on the fake clock, so either pass may be the one that closes it.
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        gateway.RunMaintenance();

        await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.HandshakeTimeout);
        await gateway.WaitForConnectionsAsync(0);
    }

    [Fact]
    public async Task A_client_silent_past_the_idle_timeout_gets_GOAWAY_HEARTBEAT_TIMEOUT()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-silent"));
        await client.ConnectAsync();
        Assert.Equal(330_000u, client.LastWelcome!.Heartbeat.IdleTimeoutMs);

        gateway.Time.Advance(TimeSpan.FromSeconds(329));
        Assert.Equal(0, gateway.RunMaintenance());
        Assert.True(client.IsConnected);
        gateway.Time.Advance(TimeSpan.FromSeconds(1));
        gateway.RunMaintenance();

        await Eventually.TrueAsync(() => !client.IsConnected, "the gateway closes the silent connection");
        Assert.Equal(MlpErrorCode.HeartbeatTimeout, client.LastGoAway?.Code);
    }

    [Fact]
    public async Task Any_frame_within_the_idle_timeout_keeps_the_connection()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var client = new MlpClient(gateway.ClientOptions("dev-beating"));
        await client.ConnectAsync();

        gateway.Time.Advance(TimeSpan.FromSeconds(200));
        await client.PingAsync();
        gateway.Time.Advance(TimeSpan.FromSeconds(200));

        Assert.Equal(0, gateway.RunMaintenance());
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task The_heartbeat_policy_comes_from_configuration()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:HeartbeatIntervalSeconds=45", "--Mlp:PongTimeoutSeconds=5", "--Mlp:IdleTimeoutSeconds=400"]);
        await using var client = new MlpClient(gateway.ClientOptions("dev-policy"));
        await client.ConnectAsync();

        var policy = client.LastWelcome!.Heartbeat;
        Assert.Equal(45_000u, policy.IntervalMs);
        Assert.Equal(5_000u, policy.PongTimeoutMs);
        Assert.Equal(400_000u, policy.IdleTimeoutMs);
    }
}
