using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using AccessLayer.SessionGrains.Nodes;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// Samples the node once per <see cref="DashboardOptions.SampleInterval"/> (on <see cref="TimeProvider"/>) into a
/// <see cref="StatsRing"/> of <see cref="DashboardOptions.History"/>: the dashboard's charts. A sample's rates are the
/// counters' growth since the previous reading divided by the time that really passed, so a late tick does not
/// show as a spike.
/// </summary>
internal sealed class NodeStatsSampler(
    IGatewayCounters counters,
    IOptions<DashboardOptions> options,
    TimeProvider time,
    GatewayMetrics metrics,
    ILogger<NodeStatsSampler> logger) : BackgroundService
{
    private readonly DashboardOptions _options = options.Value;
    private CounterReading? _previous;
    private DateTimeOffset _previousAt;

    public StatsRing Ring { get; } = new(options.Value.Capacity);

    public TimeSpan Interval => _options.SampleInterval;

    /// <summary>The totals at the last sample (evictions and drops by reason); null before the first.</summary>
    public CounterReading? Latest => Volatile.Read(ref _previous);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SampleOnce();
        return PeriodicLoop.RunAsync("dashboard_sampler", _options.SampleInterval, time, () =>
        {
            SampleOnce();
            return ValueTask.CompletedTask;
        }, metrics, logger, stoppingToken);
    }

    /// <summary>Reads the counters and, from the second reading on, adds a sample. Called by one thread at a time.</summary>
    public void SampleOnce()
    {
        var now = time.GetUtcNow();
        var reading = counters.Read();
        var previous = _previous;
        if (previous is not null && now > _previousAt)
        {
            Ring.Add(Rate(previous, reading, now, now - _previousAt));
        }

        _previousAt = now;
        Volatile.Write(ref _previous, reading);
    }

    /// <summary>The sample at <paramref name="at"/>: gauges as read, totals' growth over <paramref name="elapsed"/> per second (a total that went down, a restart of its source, counts as 0).</summary>
    internal static NodeStatsSample Rate(CounterReading before, CounterReading after, DateTimeOffset at, TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds;
        double PerSecond(long from, long to) => to <= from ? 0 : (to - from) / seconds;
        return new NodeStatsSample(
            at,
            after.MqttTcp,
            after.MqttTls,
            after.MqttWebSocket,
            after.Mlp,
            PerSecond(before.ConnectsAccepted, after.ConnectsAccepted),
            PerSecond(before.MessagesIn, after.MessagesIn),
            PerSecond(before.MessagesOut, after.MessagesOut),
            PerSecond(before.Drops, after.Drops),
            PerSecond(before.BackPressurePauses, after.BackPressurePauses),
            PerSecond(before.Evictions, after.Evictions),
            after.WorkingSetBytes,
            after.GcHeapBytes);
    }

    /// <summary>This node's samples after <paramref name="since"/> and its totals, as peers and the API see them.</summary>
    public NodeStats Stats(string nodeId, DateTimeOffset since)
    {
        var latest = Latest;
        return new NodeStats(
            nodeId,
            Interval,
            Ring.Since(since),
            latest is null ? [] : new Dictionary<string, long>(latest.EvictionsByReason, StringComparer.Ordinal),
            latest is null ? [] : new Dictionary<string, long>(latest.DropsByReason, StringComparer.Ordinal),
            latest?.BackPressurePauses ?? 0);
    }
}
