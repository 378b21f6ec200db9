using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace AccessLayer.Bots.Reporting;

/// <summary>The final report: a table for people, or one JSON line for scripts.</summary>
public static class ConsoleReport
{
    public static string ToJson(BotReport report) => JsonSerializer.Serialize(report, BotJsonContext.Default.BotReport);

    public static void Write(BotReport report, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(console);
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(report.Scenario)} against {Markup.Escape(report.Broker)} (MQTT {Markup.Escape(report.MqttVersion)})");
        table.AddColumns("figure", "value");
        var c = report.Connections;
        table.AddRow("connections", $"{c.Established.ToString("N0", inv)} of {c.Target.ToString("N0", inv)} ({c.Failed.ToString("N0", inv)} failed)");
        table.AddRow("connect rate", $"{c.ConnectRate.ToString("N0", inv)}/s over {c.ConnectSeconds.ToString("0.00", inv)} s");
        table.AddRow("connect latency µs", Format(c.ConnectLatency));
        if (report.Scenario != "conn")
        {
            var m = report.Messages;
            table.AddRow("QoS, payload", $"{report.Qos}, {report.PayloadSize} B; {report.Publishers} publishers, {report.Subscribers} subscribers");
            table.AddRow("published", $"{m.Published.ToString("N0", inv)} ({m.PublishRate.ToString("N0", inv)}/s over {m.WindowSeconds.ToString("0.00", inv)} s)");
            table.AddRow("received", $"{m.Received.ToString("N0", inv)} ({m.ReceiveRate.ToString("N0", inv)}/s)");
            table.AddRow("expected / lost", m.Expected < 0 ? "unknown" : $"{m.Expected.ToString("N0", inv)} / {m.Lost.ToString("N0", inv)}");
            if (report.Qos > 0)
            {
                table.AddRow("acknowledged", m.Acked.ToString("N0", inv));
            }

            table.AddRow("latency µs", Format(report.Latency));
        }

        if (report.BrokerMemory is { } memory)
        {
            table.AddRow("broker RSS", $"{memory.RssBeforeKb.ToString("N0", inv)} KB → {memory.RssAfterKb.ToString("N0", inv)} KB: {memory.KbPerConnection.ToString("0.00", inv)} KB per connection");
        }

        table.AddRow("errors", report.Errors.Count == 0 ? "none" : Markup.Escape(string.Join(", ", report.Errors.Select(e => $"{e.Key}={e.Value}"))));
        console.Write(table);
        console.MarkupLine($"[grey]{Markup.Escape(report.Command)}[/]");
    }

    private static string Format(Percentiles p)
    {
        if (p.Count == 0)
        {
            return "none";
        }

        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv, $"p50 {p.P50:N0}  p90 {p.P90:N0}  p99 {p.P99:N0}  p99.9 {p.P999:N0}  max {p.Max:N0}  (n={p.Count:N0})");
    }
}
