using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests;

/// <summary>A drain moves MLP devices with GOAWAY SERVER_DRAINING, the endpoints to use instead and a retry-after.</summary>
public sealed class MlpDrainParticipantTests
{
    [Fact]
    public async Task A_drain_sends_each_device_GOAWAY_with_the_other_endpoints_and_closes_it()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:DrainEndpoints:0=127.0.0.2:7001", "--Mlp:DrainEndpoints:1=wss://127.0.0.3:8443/mlp", "--Mlp:DrainRetryAfterMs=2500"]);
        await using var device = await gateway.OpenRawAsync();
        await device.HandshakeAsync("phone-1", gateway.TokenFor("phone-1"));

        Assert.True(gateway.Services.GetRequiredService<DrainCoordinator>().Start("test"));

        var goAway = await device.ExpectGoAwayAndCloseAsync(MlpErrorCode.ServerDraining);
        Assert.Equal(2500u, goAway.RetryAfterMs);
        Assert.Collection(
            goAway.Endpoints,
            tcp => Assert.Equal(("127.0.0.2", 7001u, Transport.Tcp), (tcp.Host, tcp.Port, tcp.Transport)),
            wss => Assert.Equal(("127.0.0.3", 8443u, Transport.WebsocketTls, "/mlp"), (wss.Host, wss.Port, wss.Transport, wss.Path)));
    }

    [Fact]
    public async Task A_device_that_is_already_closing_is_not_moved_twice()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var device = await gateway.OpenRawAsync();
        await device.HandshakeAsync("phone-2", gateway.TokenFor("phone-2"));
        var participant = gateway.Services.GetServices<IDrainParticipant>().OfType<MlpDrainParticipant>().Single();
        var context = new DrainContext(null, PublishWills: false);

        Assert.True(participant.HasClientsToMove);
        Assert.Equal(1, participant.MoveClients(10, context));
        Assert.False(participant.HasClientsToMove);
        Assert.Equal(0, participant.MoveClients(10, context));
        var goAway = await device.ExpectGoAwayAndCloseAsync(MlpErrorCode.ServerDraining);
        Assert.Empty(goAway.Endpoints);
    }
}
