using System.Net;
using System.Net.WebSockets;
using AccessLayer.Gateway.Governance;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Mlp;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// MLP connections pass the same governance as MQTT (node cap, per-address connect rate, drain): the TCP
/// listener refuses with a GOAWAY saying why, the /mlp WebSocket upgrade with the HTTP status of that code.
/// </summary>
public sealed class MlpAdmissionRefusalTests
{
    [Fact]
    public async Task Past_the_connection_cap_a_TCP_client_gets_GOAWAY_OVERLOADED_and_a_WebSocket_upgrade_503()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Limits:MaxConnections=1"]);
        await using var admitted = await gateway.OpenRawAsync();
        await admitted.HandshakeAsync("phone-1", gateway.TokenFor("phone-1"));

        await using var refused = await gateway.OpenRawAsync();
        var goAway = await refused.ExpectGoAwayAndCloseAsync(MlpErrorCode.Overloaded);
        Assert.True(goAway.RetryAfterMs > 0);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await UpgradeStatusAsync(gateway));
        Assert.Single(gateway.Connections.All);
    }

    [Fact]
    public async Task Past_the_connect_rate_of_an_address_TCP_gets_GOAWAY_RATE_LIMITED_and_WebSocket_429()
    {
        // Burst 1, refilled by real time (System.Threading.RateLimiting): of ten connects at once most are refused.
        await using var gateway = await MlpTestGateway.StartAsync(["--Limits:ConnectRatePerIp=1", "--Limits:ConnectBurstPerIp=1"]);
        var connections = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => gateway.OpenRawAsync()));
        try
        {
            var frames = await Task.WhenAll(connections.Select(async connection =>
            {
                try
                {
                    return await connection.TryReceiveAsync(TimeSpan.FromSeconds(2));
                }
                catch (OperationCanceledException)
                {
                    // Admitted: it waits for a HELLO and says nothing.
                    return null;
                }
            }));
            var codes = frames.OfType<RawMlpConnection.Frame>().Where(f => f.Type == MlpFrameType.GoAway)
                .Select(f => Protocol.Mlp.Envelopes.GoAway.Parser.ParseFrom(f.Payload).Code).ToList();

            Assert.Contains(MlpErrorCode.RateLimited, codes);
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => UpgradeStatusAsync(gateway)));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task While_the_node_drains_new_MLP_connections_are_refused_with_SERVER_DRAINING()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:DrainRetryAfterMs=2500"]);
        Assert.True(gateway.Services.GetRequiredService<DrainCoordinator>().Start("test"));

        await using var refused = await gateway.OpenRawAsync();
        var goAway = await refused.ExpectGoAwayAndCloseAsync(MlpErrorCode.ServerDraining);
        Assert.Equal(2500u, goAway.RetryAfterMs);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await UpgradeStatusAsync(gateway));
        Assert.Empty(gateway.Connections.All);
    }

    /// <summary>The HTTP status of a /mlp upgrade: 101 when it is accepted.</summary>
    private static async Task<HttpStatusCode> UpgradeStatusAsync(MlpTestGateway gateway)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("mlp.v1");
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(gateway.WebSocketEndpoint, timeout.Token);
        }
        catch (WebSocketException)
        {
        }

        return socket.HttpStatusCode;
    }
}
