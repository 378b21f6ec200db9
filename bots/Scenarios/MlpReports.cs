using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Reporting;

namespace AccessLayer.Bots.Scenarios;

/// <summary>The parts of an MLP report both MLP scenarios fill the same way.</summary>
internal static class MlpReports
{
    public static BotReport Create(ScenarioRun run, int established, double connectSeconds)
    {
        var o = run.Options;
        return new BotReport
        {
            Scenario = BotOptions.ScenarioName(o.Scenario),
            Broker = $"{o.Host}:{o.Port}",
            MqttVersion = "MLP/1",
            PayloadSize = o.PayloadSize,
            Publishers = o.Scenario == ScenarioKind.MlpRpc ? established : 1,
            Subscribers = o.Scenario == ScenarioKind.MlpPush ? established : 0,
            Command = BotCommandLine.ToolCommand + " " + string.Join(' ', o.ToArgs()),
            Connections = new ConnectionFigures
            {
                Target = o.Count,
                Established = established,
                Failed = run.Stats.ConnectFailures,
                ConnectSeconds = Math.Round(connectSeconds, 3),
                ConnectRate = Math.Round(established / Math.Max(1e-9, connectSeconds), 1),
                ConnectLatency = Percentiles.From(run.Stats.ConnectLatency),
            },
            Latency = Percentiles.From(run.Stats.Latency),
        };
    }

    public static void CopyErrors(BotStats stats, BotReport report)
    {
        foreach (var (kind, count) in stats.Errors)
        {
            report.Errors[kind] = count;
        }
    }
}
