using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Reporting;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// conn: opens --count connections at --connect-rate (the connect phase is capped by --duration), holds
/// them idle for --hold, closes them. With --broker-pid (and --broker-pids, summed) it reads the broker's RSS before connecting and
/// after the connections have settled, and reports KB per connection.
/// </summary>
public static class ConnScenario
{
    /// <param name="hold">
    /// Replaces the local hold (a worker child reports READY and waits for its parent's RELEASE); null holds
    /// for --hold here, measuring the broker's memory after --settle.
    /// </param>
    public static async Task<BotReport> RunAsync(ScenarioRun run, Func<CancellationToken, Task>? hold, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        var stats = run.Stats;
        var time = run.Time;
        run.PlannedClients = o.Count;
        var brokers = await ScenarioRun.ResolveAsync(o, releaseBuffersWhenIdle: true, cancellationToken);
        var fleet = new ClientFleet(brokers, stats, new SourceAddressPool(o.SourceAddresses, o.SourceOffset), time, ScenarioRun.ReconnectPolicy(o));
        await using var fleetLifetime = fleet;

        var rssBefore = hold is null ? BrokerMemoryProbe.ReadRssKb(o.MemoryPids) : null;
        var ids = Enumerable.Range(0, o.Count).Select(i => o.IsWorkerChild ? $"{o.ClientPrefix}-w{o.WorkerIndex}-{i}" : $"{o.ClientPrefix}-{i}").ToList();

        run.Phase = "connecting";
        using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectDeadline.CancelAfter(o.Duration);
        var connectStart = time.GetTimestamp();
        var clients = await fleet.ConnectAsync(ids, o.ConnectRate, o.ConnectConcurrency, connectDeadline.Token);
        var connectSeconds = time.GetElapsedTime(connectStart).TotalSeconds;
        var established = clients.Count(c => c is not null);

        using var keepAliveStop = new CancellationTokenSource();
        var keepAlive = fleet.KeepAliveAsync(keepAliveStop.Token);
        BrokerMemory? memory = null;
        run.Phase = "holding";
        try
        {
            if (hold is not null)
            {
                await hold(cancellationToken);
            }
            else
            {
                var settle = o.Hold < o.Settle ? o.Hold : o.Settle;
                await Task.Delay(settle, time, cancellationToken);
                if (rssBefore is { } before && BrokerMemoryProbe.ReadRssKb(o.MemoryPids) is { } after)
                {
                    memory = MemoryFigures(o.MemoryPids[0], before, after, established);
                }

                await Task.Delay(o.Hold - settle, time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Interrupted: close what is open and report.
        }

        await keepAliveStop.CancelAsync();
        await keepAlive;
        run.Phase = "closing";
        await fleet.DisconnectAllAsync(256);

        var report = new BotReport
        {
            Scenario = BotOptions.ScenarioName(o.Scenario),
            Broker = string.Join(',', o.Brokers),
            MqttVersion = run.VersionName,
            Command = BotCommandLine.ToolCommand + " " + string.Join(' ', o.ToArgs()),
            Connections = new ConnectionFigures
            {
                Target = o.Count,
                Established = established,
                Failed = stats.ConnectFailures,
                ConnectSeconds = Math.Round(connectSeconds, 3),
                ConnectRate = Math.Round(established / Math.Max(1e-9, connectSeconds), 1),
                ConnectLatency = Percentiles.From(stats.ConnectLatency),
                Lost = stats.ConnectionsLost,
                Reconnects = stats.Reconnects,
                ReconnectLatency = Percentiles.From(stats.ReconnectLatency),
                RecoverySeconds = Math.Round(stats.RecoverySeconds(), 3),
            },
            BrokerMemory = memory,
        };
        foreach (var (kind, count) in stats.Errors)
        {
            report.Errors[kind] = count;
        }

        if (o.IsWorkerChild)
        {
            report.ConnectHistogram = HistogramData.From(stats.ConnectLatency);
        }

        run.Phase = "done";
        return report;
    }

    public static BrokerMemory MemoryFigures(int pid, long rssBeforeKb, long rssAfterKb, long connections) => new()
    {
        Pid = pid,
        RssBeforeKb = rssBeforeKb,
        RssAfterKb = rssAfterKb,
        Connections = connections,
        KbPerConnection = connections == 0 ? 0 : Math.Round((rssAfterKb - rssBeforeKb) / (double)connections, 2),
    };
}
