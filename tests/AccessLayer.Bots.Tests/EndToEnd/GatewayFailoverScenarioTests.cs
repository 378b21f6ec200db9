using System.Diagnostics;
using AccessLayer.Bots.Cli;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>
/// A whole bots run (<c>conn --endpoints a,b</c>) against two real gateway processes, one of them killed
/// during the hold: every connection ends up on the survivor and the report counts the moves.
/// </summary>
public sealed class GatewayFailoverScenarioTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Conn_over_two_endpoints_reconnects_the_killed_brokers_clients_to_the_other_and_reports_it()
    {
        using var first = new GatewayProcess(mqtt: true);
        using var second = new GatewayProcess(mqtt: true);
        var prefix = "failover-" + Guid.NewGuid().ToString("N")[..8];
        var endpoints = $"127.0.0.1:{first.MqttPort},127.0.0.1:{second.MqttPort}";
        var options = new BotOptions
        {
            Scenario = ScenarioKind.Conn,
            Endpoints = endpoints,
            Count = 6,
            ConnectRate = 0,
            Hold = TimeSpan.FromMinutes(1),
            Duration = TimeSpan.FromSeconds(30),
            ReconnectMaxBackoff = TimeSpan.FromMilliseconds(500),
            ClientPrefix = prefix,
            Quiet = true,
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var run = BotRunner.RunAsync(options, TimeProvider.System, stop.Token);

        await UntilAsync(async () => await first.ConnectedClientsAsync(prefix) == 3 && await second.ConnectedClientsAsync(prefix) == 3, "3 clients on each gateway");
        first.Kill();
        await UntilAsync(async () => await second.ConnectedClientsAsync(prefix) == 6, "all 6 clients on the survivor");
        // Ends the hold early: the run closes its clients and reports.
        await stop.CancelAsync();
        var report = await run.WaitAsync(Bound);

        Assert.Equal(endpoints, report.Broker);
        Assert.Equal(6, report.Connections.Established);
        Assert.Equal(0, report.Connections.Failed);
        Assert.Equal(3, report.Connections.Lost);
        Assert.Equal(3, report.Connections.Reconnects);
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < Bound, $"not {what} within {Bound.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
