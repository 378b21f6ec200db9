using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Reporting;
using AccessLayer.Bots.Scenarios;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Bots.Tests.Reporting;

public sealed class IntervalReporterTests
{
    private static readonly long Millisecond = Stopwatch.Frequency / 1000;

    [Fact]
    public void Each_sample_reports_only_what_happened_since_the_previous_one()
    {
        var time = new FakeTimeProvider();
        var stats = new BotStats();
        var reporter = new IntervalReporter(stats, time);
        var sent = Stopwatch.GetTimestamp();

        // First interval: 98 receipts at 1 ms and two at 50 ms (the 99th of 100 is a slow one).
        for (var i = 0; i < 98; i++)
        {
            stats.MessageReceived(sent, sent + Millisecond);
        }

        stats.MessageReceived(sent, sent + (50 * Millisecond));
        stats.MessageReceived(sent, sent + (50 * Millisecond));
        time.Advance(TimeSpan.FromSeconds(2));
        var first = reporter.Sample("publishing");

        // Second interval: 10 receipts at 2 ms only; the 50 ms outlier must not carry over.
        for (var i = 0; i < 10; i++)
        {
            stats.MessageReceived(sent, sent + (2 * Millisecond));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var second = reporter.Sample("draining");

        Assert.Equal(100, first.Received);
        Assert.Equal(100, first.Latency.Count);
        Assert.Equal(2, first.Seconds);
        Assert.Equal(50, first.ReceiveRate);
        Assert.InRange(first.Latency.P99, 49_600, 50_400);

        Assert.Equal(10, second.Received);
        Assert.Equal(10, second.Latency.Count);
        Assert.InRange(second.Latency.P99, 1_980, 2_020);
        Assert.Equal(3, second.Elapsed);
        Assert.Equal("draining", second.Phase);
        Assert.Equal(time.GetUtcNow(), second.Time);

        // The run's whole-histogram still holds every measured receipt.
        Assert.Equal(110, stats.Latency.TotalCount);
    }

    [Fact]
    public async Task Run_writes_a_json_line_per_interval_and_a_last_one_when_the_scenario_ends()
    {
        var time = new FakeTimeProvider();
        var run = new ScenarioRun(new BotOptions { Scenario = ScenarioKind.P2p }, time) { Phase = "publishing" };
        var scenario = new TaskCompletionSource<BotReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new SignallingWriter();
        var reporting = IntervalReporter.RunAsync(run, TimeSpan.FromSeconds(60), output, scenario.Task);

        var sent = Stopwatch.GetTimestamp();
        run.Stats.MessageReceived(sent, sent + Millisecond);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(output.Lines);
        time.Advance(TimeSpan.FromSeconds(1));
        await output.WaitForLinesAsync(1);

        run.Stats.MessageReceived(sent, sent + Millisecond);
        run.Stats.MessageReceived(sent, sent + Millisecond);
        time.Advance(TimeSpan.FromSeconds(10));
        scenario.SetResult(new BotReport());
        await reporting.WaitAsync(TimeSpan.FromSeconds(10));

        var lines = output.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(60, lines[0].GetProperty("elapsed").GetDouble());
        Assert.Equal(1, lines[0].GetProperty("received").GetInt64());
        Assert.Equal(70, lines[1].GetProperty("elapsed").GetDouble());
        Assert.Equal(2, lines[1].GetProperty("latency").GetProperty("count").GetInt64());
    }

    /// <summary>Collects written lines and lets the test wait for them instead of sleeping.</summary>
    private sealed class SignallingWriter : TextWriter
    {
        private readonly SemaphoreSlim _written = new(0);
        private readonly List<string> _lines = [];

        public override Encoding Encoding => Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public override Task WriteLineAsync(string? value)
        {
            lock (_lines)
            {
                _lines.Add(value ?? "");
            }

            _written.Release();
            return Task.CompletedTask;
        }

        public async Task WaitForLinesAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(await _written.WaitAsync(TimeSpan.FromSeconds(10)), "no interval line was written");
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _written.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
