using System.Diagnostics;
using AccessLayer.Gateway.Governance;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// <c>Memory:TrimAfterConnectStorm</c>: once a second looks at the admitted connection count and, when
/// <see cref="ConnectStormPolicy"/> says a storm is over, runs one aggressive full GC
/// (<see cref="GCCollectionMode.Aggressive"/>: compacts and decommits free regions back to the OS).
/// Rate-limited and only when the count is quiet, so its pause never lands in the middle of a storm.
/// </summary>
internal sealed partial class MemoryTrimmer(ConnectionGovernor governor, IOptions<MemoryOptions> options, TimeProvider time, ILogger<MemoryTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TrimAfterConnectStorm)
        {
            return;
        }

        var policy = new ConnectStormPolicy(options.Value);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var connections = governor.ActiveConnections;
                if (policy.Observe(connections, time.GetUtcNow()))
                {
                    Trim(connections);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Host stopping.
        }
    }

    private void Trim(int connections)
    {
        var before = Environment.WorkingSet;
        var started = Stopwatch.GetTimestamp();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var pause = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var after = Environment.WorkingSet;
        TrimmedLog(logger, connections, before >> 20, after >> 20, pause);
    }

    [LoggerMessage(EventId = 5110, Level = LogLevel.Information, Message = "Memory trimmed after a connect storm ({Connections} connections): working set {BeforeMb} MB -> {AfterMb} MB, {PauseMs:F0} ms")]
    private static partial void TrimmedLog(ILogger logger, int connections, long beforeMb, long afterMb, double pauseMs);
}
