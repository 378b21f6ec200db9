using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>What an MQTT connection logs names its client and the node, from the connection's one logging scope.</summary>
public sealed class MqttLogScopeTests
{
    [Fact]
    public async Task Lines_logged_on_an_MQTT_connection_carry_its_client_id_and_the_node_id()
    {
        var logs = new CapturingLoggerProvider();
        await using var gateway = await InProcessGateway.StartAsync(services => services.AddSingleton<ILoggerProvider>(logs), "--Logging:LogLevel:AccessLayer=Debug");
        await using (var client = await gateway.ConnectClientAsync())
        {
            await client.ConnectAsync("scoped-client");
            await client.DisconnectAsync();
            await client.WaitForCloseAsync();
        }

        var nodeId = gateway.Broker.Fleet.NodeId;
        Assert.False(string.IsNullOrEmpty(nodeId));
        // 1001 connected (in the broker's CONNECT), 1002 disconnected (when the connection ends): the provider is this gateway's own.
        foreach (var eventId in new[] { 1001, 1002 })
        {
            var line = await WaitForLineAsync(logs, eventId);
            Assert.Equal("scoped-client", line.Scope("ClientId"));
            Assert.Equal(nodeId, line.Scope("NodeId"));
            Assert.NotNull(line.Scope("ConnectionId"));
        }
    }

    private static async Task<CapturedLog> WaitForLineAsync(CapturingLoggerProvider logs, int eventId)
    {
        // The disconnect is logged after the socket closes, on the server's side of it: bounded real-time wait.
        for (var i = 0; i < 100; i++)
        {
            if (logs.Lines.FirstOrDefault(l => l.EventId.Id == eventId) is { } line)
                return line;
            await Task.Delay(50);
        }

        throw new TimeoutException($"Event {eventId} was not logged.");
    }
}
