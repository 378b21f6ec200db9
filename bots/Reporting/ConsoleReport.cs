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
        var protocol = report.Mlp is null ? "MQTT " + report.MqttVersion : report.MqttVersion;
        var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(report.Scenario)} against {Markup.Escape(report.Broker)} ({Markup.Escape(protocol)})");
        table.AddColumns("figure", "value");
        var c = report.Connections;
        table.AddRow("connections", $"{c.Established.ToString("N0", inv)} of {c.Target.ToString("N0", inv)} ({c.Failed.ToString("N0", inv)} failed)");
        table.AddRow("connect rate", $"{c.ConnectRate.ToString("N0", inv)}/s over {c.ConnectSeconds.ToString("0.00", inv)} s");
        table.AddRow("connect latency µs", Format(c.ConnectLatency));
        if (c.Lost > 0 || c.Reconnects > 0)
        {
            table.AddRow("lost / reconnected", $"{c.Lost.ToString("N0", inv)} / {c.Reconnects.ToString("N0", inv)} within {c.RecoverySeconds.ToString("0.00", inv)} s of the first loss");
            table.AddRow("reconnect latency µs", Format(c.ReconnectLatency));
        }
        if (report.Mlp is { } mlp)
        {
            WriteMlp(report, mlp, table);
        }
        else if (report.Scenario != "conn")
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

    private static void WriteMlp(BotReport report, MlpFigures mlp, Table table)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Messages;
        if (report.Scenario == "mlp-rpc")
        {
            table.AddRow("payload, concurrency", $"{report.PayloadSize} B; {mlp.Concurrency} calls in flight per connection");
            table.AddRow("calls", $"{m.Published.ToString("N0", inv)} started, {m.Received.ToString("N0", inv)} answered, {m.Acked.ToString("N0", inv)} echoed correctly over {m.WindowSeconds.ToString("0.00", inv)} s");
            table.AddRow("calls/s", mlp.CallsPerSecond.ToString("N0", inv));
            table.AddRow("bytes per call", $"{mlp.BytesSentPerCall.ToString("0.0", inv)} sent, {mlp.BytesReceivedPerCall.ToString("0.0", inv)} received (MLP frames)");
            table.AddRow("latency µs", Format(report.Latency));
            return;
        }

        table.AddRow("payload, target", $"{report.PayloadSize} B; push to {mlp.PushTarget}; {mlp.Concurrency} POSTs in flight");
        table.AddRow("pushes accepted", $"{m.Published.ToString("N0", inv)} ({mlp.CallsPerSecond.ToString("N0", inv)}/s over {m.WindowSeconds.ToString("0.00", inv)} s); online {mlp.PushOnline.ToString("N0", inv)}, dropped {mlp.PushDropped.ToString("N0", inv)}");
        table.AddRow("delivered", $"{m.Received.ToString("N0", inv)} of {m.Expected.ToString("N0", inv)} ({m.ReceiveRate.ToString("N0", inv)}/s), lost {m.Lost.ToString("N0", inv)}");
        table.AddRow("gateway ACKs", mlp.GatewayAcks < 0 ? "unknown" : mlp.GatewayAcks.ToString("N0", inv));
        table.AddRow("delivery latency µs", Format(report.Latency));
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
