using System.Diagnostics;
using System.Globalization;
using AccessLayer.Bots.Scenarios;
using Spectre.Console;

namespace AccessLayer.Bots.Reporting;

/// <summary>A live table on the terminal, refreshed twice a second: connections, msg/s out and in, errors.</summary>
public static class LiveProgress
{
    /// <summary>Only for a human at a terminal: never with --quiet, --json, or redirected output.</summary>
    public static bool ShouldShow(ScenarioRun run) =>
        run is not null && !run.Options.Quiet && !run.Options.Json && !run.Options.IsWorkerChild && !Console.IsOutputRedirected;

    public static async Task ShowAsync(ScenarioRun run, Task scenario)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(scenario);
        var table = new Table().Border(TableBorder.Rounded).Title($"bots {Markup.Escape(run.Options.ToArgs()[0])} → {Markup.Escape(run.Options.Host)}:{run.Options.Port}");
        table.AddColumns("elapsed", "phase", "connections", "connect errors", "msg/s out", "msg/s in", "errors");
        table.AddRow("", "", "", "", "", "", "");
        var stats = run.Stats;
        var started = Stopwatch.GetTimestamp();
        long lastOut = 0, lastIn = 0;
        var lastTime = started;
        await AnsiConsole.Live(table).AutoClear(false).StartAsync(async context =>
        {
            while (!scenario.IsCompleted)
            {
                await Task.WhenAny(scenario, Task.Delay(500));
                var now = Stopwatch.GetTimestamp();
                var seconds = Math.Max(1e-9, (now - lastTime) / (double)Stopwatch.Frequency);
                var sent = stats.PublishedAll;
                var received = stats.ReceivedAll;
                var inv = CultureInfo.InvariantCulture;
                table.UpdateCell(0, 0, Stopwatch.GetElapsedTime(started).ToString(@"mm\:ss", inv));
                table.UpdateCell(0, 1, Markup.Escape(run.Phase));
                table.UpdateCell(0, 2, $"{stats.Connected.ToString("N0", inv)} / {run.PlannedClients.ToString("N0", inv)}");
                table.UpdateCell(0, 3, stats.ConnectFailures.ToString("N0", inv));
                table.UpdateCell(0, 4, ((sent - lastOut) / seconds).ToString("N0", inv));
                table.UpdateCell(0, 5, ((received - lastIn) / seconds).ToString("N0", inv));
                table.UpdateCell(0, 6, stats.TotalErrors.ToString("N0", inv));
                lastOut = sent;
                lastIn = received;
                lastTime = now;
                context.Refresh();
            }
        });
    }
}
