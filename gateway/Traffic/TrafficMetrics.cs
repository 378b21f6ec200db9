using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Metrics;

namespace AccessLayer.Gateway.Traffic;

/// <summary>Traffic instruments, on the gateway's meter: the table in force, its applies and refusals, how calls were routed and forwarded.</summary>
internal sealed class TrafficMetrics : IDisposable
{
    private readonly Meter _meter;
    private long _version;

    public TrafficMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(GatewayMetrics.MeterName);
        _meter.CreateObservableGauge("traffic.table.version", () => Volatile.Read(ref _version), description: "Version of the traffic table in force (0: none).");
        Applies = _meter.CreateCounter<long>("traffic.table.applies", description: "Traffic tables applied, by source (start, file, admin, rollback).");
        Refusals = _meter.CreateCounter<long>("traffic.table.refusals", description: "Traffic tables refused (the one in force stayed), by source (file, admin).");
        Routed = _meter.CreateCounter<long>("traffic.routed", description: "MLP calls routed by the traffic table, by reason (shard, override, failover, site_random, load_test, cookie) and group kind (blue, green, gray, load_test).");
        Forwarded = _meter.CreateCounter<long>("traffic.forwarded", description: "MLP calls forwarded to another site's gateways, by result (ok, failed).");
        Ejections = _meter.CreateCounter<long>("traffic.endpoint.ejections", description: "Backend endpoints taken out of routing, by reason (outlier: failed calls in a row; health_check: failed checks in a row).");
        Retries = _meter.CreateCounter<long>("traffic.retries", description: "Idempotent calls tried again on another endpoint of their group after a 502 or 503.");
        UplinkMessages = _meter.CreateCounter<long>("traffic.uplink.messages", description: "MQTT PUBLISHes an uplink rule matched, by rule and result (queued, queue_full, refused).");
        UplinkDropped = _meter.CreateCounter<long>("traffic.uplink.dropped", description: "QoS 0 uplink messages dropped, by rule and reason (queue_full, refused, rejected).");
        UplinkBatches = _meter.CreateCounter<long>("traffic.uplink.batches", description: "Uplink batches posted to a backend or a peer gateway, by rule and result (accepted, rejected: a 4xx, failed: retried).");
        UplinkDelivered = _meter.CreateCounter<long>("traffic.uplink.delivered", description: "Uplink messages in batches the backend accepted, by rule.");
        _meter.CreateObservableGauge("traffic.uplink.queued", () => Volatile.Read(ref _uplinkQueued), description: "Uplink messages held (queued and in flight) over all queues.");
        Steered = _meter.CreateCounter<long>("traffic.steered", description: "Long-link clients told that their zone's site is another one (Traffic:Steer), by how (hint: WELCOME home_endpoints; redirect: GOAWAY REDIRECT).");
        Links = _meter.CreateCounter<long>("traffic.links", description: "Site links opened, by direction (out: to another site's gateway; in: from one).");
        ForwardsRefused = _meter.CreateCounter<long>("traffic.forwards.refused", description: "Forwards from other gateways refused, by reason (signature, loop).");
    }

    public Counter<long> Applies { get; }

    public Counter<long> Refusals { get; }

    public Counter<long> Routed { get; }

    public Counter<long> Forwarded { get; }

    public Counter<long> ForwardsRefused { get; }

    public Counter<long> Links { get; }

    public Counter<long> Steered { get; }

    public Counter<long> Ejections { get; }

    public Counter<long> Retries { get; }

    public Counter<long> UplinkMessages { get; }

    public Counter<long> UplinkDropped { get; }

    public Counter<long> UplinkBatches { get; }

    public Counter<long> UplinkDelivered { get; }

    private long _uplinkQueued;

    public void AddUplinkQueued(long delta) => Interlocked.Add(ref _uplinkQueued, delta);

    public void SetVersion(long version) => Volatile.Write(ref _version, version);

    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    public void Dispose() => _meter.Dispose();
}
