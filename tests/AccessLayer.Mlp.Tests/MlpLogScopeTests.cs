using AccessLayer.Client;
using AccessLayer.Gateway.Mlp.Fleet;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests;

/// <summary>What an MLP connection logs names its device and the node, from the connection's one logging scope.</summary>
public sealed class MlpLogScopeTests
{
    [Fact]
    public async Task Lines_logged_on_an_MLP_connection_carry_its_device_id_and_the_node_id()
    {
        var logs = new CapturingLoggerProvider();
        var deadPort = FreePorts.Next();
        await using var gateway = await MlpTestGateway.StartAsync(
            [$"--Mlp:Routes:dead:Url=http://127.0.0.1:{deadPort}/", "--Logging:LogLevel:AccessLayer=Debug"],
            services => services.AddSingleton<ILoggerProvider>(logs));
        await using var client = new MlpClient(gateway.ClientOptions("dev-scoped"));
        await client.ConnectAsync();

        // A backend that refuses the connection: the gateway logs it (2010) on the request's path.
        Assert.Equal(502, (await client.CallAsync("dead", "x", ReadOnlyMemory<byte>.Empty)).Status);

        var nodeId = gateway.Services.GetRequiredService<MlpFleetSessions>().NodeId;
        Assert.False(string.IsNullOrEmpty(nodeId));
        foreach (var eventId in new[] { 2001, 2010 })
        {
            // The provider is this gateway's own: no other test's lines reach it. A secondary link (opened when the first
            // handshake was slow, as a cold process's is) logs its own 2001 line: every line of the event must carry the scope.
            var lines = logs.Lines.Where(l => l.EventId.Id == eventId).ToList();
            Assert.NotEmpty(lines);
            Assert.All(lines, line =>
            {
                Assert.Equal("dev-scoped", line.Scope("DeviceId"));
                Assert.Equal(nodeId, line.Scope("NodeId"));
                Assert.NotNull(line.Scope("ConnectionId"));
            });
        }
    }
}
