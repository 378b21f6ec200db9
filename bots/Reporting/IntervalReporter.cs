using System.Text.Json;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Scenarios;

namespace AccessLayer.Bots.Reporting;

/// <summary>
/// --interval: while a scenario runs, writes one JSON line (<see cref="IntervalReport"/>) per interval with
/// that interval's counts and latency percentiles, so a long run shows drift instead of one average.
/// </summary>
public sealed class IntervalReporter
{
    private readonly BotStats _stats;
    private readonly TimeProvider _time;
    private readonly long _started;
    private long _last;
    private long _sent;
    private long _received;
    private long _errors;

    public IntervalReporter(BotStats stats, TimeProvider time)
    {
        _stats = stats ?? throw new ArgumentNullException(nameof(stats));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _started = _time.GetTimestamp();
        _last = _started;
    }

    /// <summary>Closes the current interval: the counts since the previous sample and its latency histogram.</summary>
    public IntervalReport Sample(string phase)
    {
        var now = _time.GetTimestamp();
        var seconds = Math.Max(1e-9, _time.GetElapsedTime(_last, now).TotalSeconds);
        var sent = _stats.PublishedAll;
        var received = _stats.ReceivedAll;
        var errors = _stats.TotalErrors;
        var report = new IntervalReport
        {
            Time = _time.GetUtcNow(),
            Elapsed = Math.Round(_time.GetElapsedTime(_started, now).TotalSeconds, 3),
            Seconds = Math.Round(seconds, 3),
            Phase = phase,
            Connected = _stats.Connected,
            Sent = sent - _sent,
            Received = received - _received,
            Errors = errors - _errors,
            SendRate = Math.Round((sent - _sent) / seconds, 1),
            ReceiveRate = Math.Round((received - _received) / seconds, 1),
            Latency = Percentiles.From(_stats.TakeIntervalLatency()),
        };
        _last = now;
        _sent = sent;
        _received = received;
        _errors = errors;
        return report;
    }

    /// <summary>Writes a line every <paramref name="interval"/> until <paramref name="scenario"/> ends, then a last (partial) one.</summary>
    public static async Task RunAsync(ScenarioRun run, TimeSpan interval, TextWriter output, Task scenario)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(scenario);
        var reporter = new IntervalReporter(run.Stats, run.Time);
        var next = run.Time.GetTimestamp();
        var step = (long)(interval.TotalSeconds * run.Time.TimestampFrequency);
        using var stop = new CancellationTokenSource();
        while (true)
        {
            // Intervals are aligned to the start, so lines do not drift by the time it takes to write one.
            next += step;
            var wait = run.Time.GetElapsedTime(run.Time.GetTimestamp(), next);
            if (wait > TimeSpan.Zero && !scenario.IsCompleted)
            {
                await Task.WhenAny(scenario, Task.Delay(wait, run.Time, stop.Token));
            }

            // The last line is sampled after the scenario ended, so it holds everything up to the end.
            var ended = scenario.IsCompleted;
            await Write(output, reporter.Sample(run.Phase));
            if (ended)
            {
                break;
            }
        }

        await stop.CancelAsync();

        static async Task Write(TextWriter output, IntervalReport report)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(report, BotJsonContext.Default.IntervalReport));
            await output.FlushAsync();
        }
    }
}
