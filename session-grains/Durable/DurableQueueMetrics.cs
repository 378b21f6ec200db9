using System.Diagnostics.Metrics;

namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// The durable queue's instruments, on the gateway's meter (<c>AccessLayer.Gateway</c>, created
/// through the same <see cref="IMeterFactory"/>, so <c>/metrics</c> serves them). Per-entry totals are
/// interlocked and observed at scrape time, as the gateway's per-message figures are; per-commit
/// figures are ordinary instruments.
/// </summary>
internal sealed class DurableQueueMetrics
{
    /// <summary>The gateway's meter name (AccessLayer.Gateway.Metrics.GatewayMetrics.MeterName; session-grains cannot reference the gateway).</summary>
    public const string MeterName = "AccessLayer.Gateway";

    private long _appended;
    private long _acknowledged;
    private long _dropped;

    public DurableQueueMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("fleet.durable.appends", () => Volatile.Read(ref _appended), description: "Entries appended to durable QoS 1/2 queues in Redis (one per subscriber of a message).");
        meter.CreateObservableCounter("fleet.durable.acknowledgements", () => Volatile.Read(ref _acknowledged), description: "Durable queue entries removed after the subscriber acknowledged them.");
        meter.CreateObservableCounter("fleet.durable.dropped", () => Volatile.Read(ref _dropped), description: "Durable queue entries dropped, oldest first, past the per-client bound (Mqtt:MaxQueuedMessages).");
        Commits = meter.CreateCounter<long>("fleet.durable.commits", description: "Group commits to Redis (one pipelined round trip each).");
        CommitDuration = meter.CreateHistogram<double>("fleet.durable.commit.duration", "s", "Time from sending a group commit to Redis answering all of it.");
        Failures = meter.CreateCounter<long>("fleet.durable.failures", description: "Durable queue operations failed, by reason (timeout, redis_error).");
    }

    public Counter<long> Commits { get; }

    public Histogram<double> CommitDuration { get; }

    public Counter<long> Failures { get; }

    public void Appended(long entries) => Interlocked.Add(ref _appended, entries);

    public void Acknowledged(long entries) => Interlocked.Add(ref _acknowledged, entries);

    public void Dropped(long entries) => Interlocked.Add(ref _dropped, entries);

    public void Failed(string reason, long operations) =>
        Failures.Add(operations, new KeyValuePair<string, object?>("reason", reason));
}
