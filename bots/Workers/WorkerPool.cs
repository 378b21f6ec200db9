using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Metrics;
using AccessLayer.Bots.Reporting;
using AccessLayer.Bots.Scenarios;

namespace AccessLayer.Bots.Workers;

/// <summary>
/// conn across processes: one process cannot hold more than ~20,000 sockets here, so the parent starts
/// --workers copies of itself, each with its share of --count, --connect-rate and the source addresses.
/// Children print READY once connected and wait; the parent reads the broker's memory when all are ready,
/// holds, sends RELEASE, and merges the JSON reports the children print.
/// </summary>
public static class WorkerPool
{
    public const string ReadyLine = "READY";
    public const string ReleaseLine = "RELEASE";

    /// <summary>The options child <paramref name="index"/> of <paramref name="workers"/> runs with.</summary>
    public static BotOptions ChildOptions(BotOptions parent, int index)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var workers = parent.Workers;
        var count = (parent.Count / workers) + (index < parent.Count % workers ? 1 : 0);
        var perWorkerSources = parent.SourceAddresses == 0 ? 0 : Math.Max(1, parent.SourceAddresses / workers);
        return parent with
        {
            Count = count,
            Workers = 1,
            WorkerIndex = index,
            ConnectRate = parent.ConnectRate / workers,
            ConnectConcurrency = Math.Max(1, parent.ConnectConcurrency / workers),
            SourceAddresses = perWorkerSources,
            SourceOffset = parent.SourceAddresses == 0 ? 0 : parent.SourceOffset + ((index * perWorkerSources) % parent.SourceAddresses),
            BrokerPid = null,
            BrokerPids = "",
            Json = true,
            Quiet = true,
        };
    }

    /// <summary>The child's hold: announce READY on stdout, then wait for RELEASE (or end of input) on stdin.</summary>
    public static async Task ChildHoldAsync(BotOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await Console.Out.WriteLineAsync(ReadyLine);
        await Console.Out.FlushAsync(cancellationToken);
        // Bounded even if the parent vanished without closing our input.
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cap.CancelAfter(options.Hold + options.Duration + TimeSpan.FromSeconds(60));
        try
        {
            while (await Console.In.ReadLineAsync(cap.Token) is { } line)
            {
                if (line.Trim() == ReleaseLine)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Released by the cap.
        }
    }

    public static async Task<BotReport> RunAsync(ScenarioRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var o = run.Options;
        run.PlannedClients = o.Count;
        var rssBefore = BrokerMemoryProbe.ReadRssKb(o.MemoryPids);
        var children = new List<Child>();
        run.Phase = "starting workers";
        var started = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < o.Workers; i++)
            {
                children.Add(Child.Start(ChildOptions(o, i)));
            }

            run.Phase = "connecting";
            using var readyDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            readyDeadline.CancelAfter(o.Duration + TimeSpan.FromSeconds(60));
            try
            {
                await Task.WhenAll(children.Select(c => c.Ready.WaitAsync(readyDeadline.Token)));
            }
            catch (OperationCanceledException)
            {
                run.Stats.Error("worker_not_ready");
            }

            var connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            run.Phase = "holding";
            var settle = o.Hold < o.Settle ? o.Hold : o.Settle;
            await Delay(settle, run.Time, cancellationToken);
            var rssAfter = BrokerMemoryProbe.ReadRssKb(o.MemoryPids);
            await Delay(o.Hold - settle, run.Time, cancellationToken);

            run.Phase = "closing";
            foreach (var child in children)
            {
                await child.ReleaseAsync();
            }

            var reports = new List<BotReport>();
            foreach (var child in children)
            {
                if (await child.ReportAsync(TimeSpan.FromSeconds(60)) is { } report)
                {
                    reports.Add(report);
                }
                else
                {
                    run.Stats.Error("worker_no_report");
                }
            }

            var merged = Merge(o, reports, run.Stats.Errors, connectSeconds);
            if (rssBefore is { } before && rssAfter is { } after)
            {
                merged.BrokerMemory = ConnScenario.MemoryFigures(o.MemoryPids[0], before, after, merged.Connections.Established);
            }

            run.Phase = "done";
            return merged;
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>One report from the children's: counts summed, histograms merged, the slowest connect phase.</summary>
    public static BotReport Merge(BotOptions options, IReadOnlyList<BotReport> reports, IEnumerable<KeyValuePair<string, long>> parentErrors, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reports);
        var connect = new LatencyHistogram();
        var merged = new BotReport
        {
            Scenario = BotOptions.ScenarioName(options.Scenario),
            Broker = string.Join(',', options.Brokers),
            MqttVersion = reports.Count > 0 ? reports[0].MqttVersion : "",
            Workers = options.Workers,
            Command = BotCommandLine.ToolCommand + " " + string.Join(' ', options.ToArgs()),
        };
        foreach (var report in reports)
        {
            merged.Connections.Established += report.Connections.Established;
            merged.Connections.Failed += report.Connections.Failed;
            merged.Connections.Lost += report.Connections.Lost;
            merged.Connections.Reconnects += report.Connections.Reconnects;
            merged.Connections.ConnectSeconds = Math.Max(merged.Connections.ConnectSeconds, report.Connections.ConnectSeconds);
            if (report.ConnectHistogram is { } histogram)
            {
                connect.Add(histogram.ToHistogram());
            }

            foreach (var (kind, count) in report.Errors)
            {
                merged.Errors[kind] = merged.Errors.GetValueOrDefault(kind) + count;
            }
        }

        foreach (var (kind, count) in parentErrors)
        {
            merged.Errors[kind] = merged.Errors.GetValueOrDefault(kind) + count;
        }

        merged.Connections.Target = options.Count;
        if (merged.Connections.ConnectSeconds <= 0)
        {
            merged.Connections.ConnectSeconds = Math.Round(wallSeconds, 3);
        }

        merged.Connections.ConnectRate = Math.Round(merged.Connections.Established / Math.Max(1e-9, merged.Connections.ConnectSeconds), 1);
        merged.Connections.ConnectLatency = Percentiles.From(connect);
        return merged;
    }

    private static async Task Delay(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Interrupted: release the children and report.
        }
    }

    private sealed class Child : IDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<BotReport?> _report = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Child(Process process)
        {
            _process = process;
        }

        public Task Ready => _ready.Task;

        public static Child Start(BotOptions options)
        {
            var start = new ProcessStartInfo
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start workers from.");
            start.FileName = self;
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                // Run as `dotnet AccessLayer.Bots.dll`: children need the assembly too.
                start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
            }

            foreach (var arg in options.ToArgs())
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a worker.");
            var child = new Child(process);
            _ = child.ReadAsync();
            return child;
        }

        public async Task ReleaseAsync()
        {
            try
            {
                await _process.StandardInput.WriteLineAsync(ReleaseLine);
                await _process.StandardInput.FlushAsync();
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child is gone already; its report (or its absence) tells.
            }
        }

        public async Task<BotReport?> ReportAsync(TimeSpan timeout)
        {
            try
            {
                return await _report.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }

            _process.Dispose();
        }

        private async Task ReadAsync()
        {
            BotReport? report = null;
            try
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line)
                {
                    if (line == ReadyLine)
                    {
                        _ready.TrySetResult();
                    }
                    else if (line.StartsWith('{'))
                    {
                        report = JsonSerializer.Deserialize(line, BotJsonContext.Default.BotReport);
                    }
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // A broken child yields no report.
            }

            // A child that died before READY must not hold the others.
            _ready.TrySetResult();
            _report.TrySetResult(report);
        }
    }
}
