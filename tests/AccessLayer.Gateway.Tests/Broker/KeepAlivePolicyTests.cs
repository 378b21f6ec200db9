using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>
/// <c>Mqtt:MaxKeepAlive</c> caps what 5.0 clients ask for (and gives askers of 0 the cap) without stretching
/// shorter keep alives; 3.1.1 clients keep theirs; <c>Mqtt:ServerKeepAlive</c> still overrides when set.
/// Enforcement is checked on the wire on a fake clock (closed at 1.5 times the keep alive).
/// </summary>
public sealed class KeepAlivePolicyTests
{
    [Theory]
    [InlineData(true, 120, 60, 60)]
    [InlineData(true, 0, 60, 60)]
    [InlineData(true, 2, 2, null)]
    [InlineData(true, 60, 60, null)]
    [InlineData(false, 120, 120, null)]
    [InlineData(false, 0, 0, null)]
    [InlineData(false, 2, 2, null)]
    public void MaxKeepAlive_caps_5_0_requests_and_leaves_the_rest(bool v5, int requested, int enforced, int? announced)
    {
        var options = new MqttOptions { MaxKeepAlive = 60 };

        Assert.Equal(enforced, KeepAlivePolicy.Negotiate(v5, (ushort)requested, options, out var serverKeepAlive));
        Assert.Equal(announced, (int?)serverKeepAlive);
    }

    [Fact]
    public void ServerKeepAlive_when_set_replaces_every_5_0_request_and_DefaultKeepAlive_fills_in_for_0()
    {
        var options = new MqttOptions { ServerKeepAlive = 30, MaxKeepAlive = 60, DefaultKeepAlive = 45 };
        Assert.Equal(30, KeepAlivePolicy.Negotiate(true, 2, options, out var announced));
        Assert.Equal((ushort)30, announced);
        Assert.Equal(45, KeepAlivePolicy.Negotiate(false, 0, options, out announced));
        Assert.Null(announced);
        Assert.Equal(45, KeepAlivePolicy.Negotiate(true, 0, new MqttOptions { DefaultKeepAlive = 45 }, out announced));
        Assert.Null(announced);
    }

    [Fact]
    public async Task A_5_0_client_asking_for_2_s_under_a_60_s_maximum_is_closed_after_3_s_of_silence()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxKeepAlive=60");
        await using var device = await gateway.ConnectClientAsync();
        var connAck = await device.ConnectAsync("device", keepAlive: 2);
        Assert.Null(connAck.ServerKeepAlive);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(MqttReasonCode.KeepAliveTimeout, (await device.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task A_5_0_client_asking_for_more_than_the_maximum_is_told_the_maximum_and_held_to_it()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxKeepAlive=60");
        await using var device = await gateway.ConnectClientAsync();
        var connAck = await device.ConnectAsync("device", keepAlive: 120);
        Assert.Equal((ushort)60, connAck.ServerKeepAlive);

        await gateway.AdvanceAsync(TimeSpan.FromSeconds(85));
        Assert.Null(await device.TryReceiveAsync(TimeSpan.FromMilliseconds(200)));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(MqttReasonCode.KeepAliveTimeout, (await device.ReceiveAsync()).AsDisconnect(MqttProtocolVersion.V500).ReasonCode);
    }

    [Fact]
    public async Task A_3_1_1_client_keeps_the_keep_alive_it_asked_for()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Mqtt:MaxKeepAlive=60");
        await using var device = await gateway.ConnectClientAsync();
        Assert.Equal(MqttConnectReturnCode.Accepted, (await device.ConnectAsync("device", MqttProtocolVersion.V311, keepAlive: 120)).ReturnCode);

        // Past 1.5 times the maximum but within 1.5 times its own: it cannot have been told, so it is not closed.
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(120));
        Assert.False(await device.WaitForCloseAsync(TimeSpan.FromMilliseconds(300)));
        await gateway.AdvanceAsync(TimeSpan.FromSeconds(61));
        Assert.True(await device.WaitForCloseAsync());
    }
}
