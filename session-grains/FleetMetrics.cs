using System.Diagnostics.Metrics;

namespace AccessLayer.SessionGrains;

/// <summary>The fleet's instruments, on the gateway's meter (<c>AccessLayer.Gateway</c>).</summary>
internal sealed class FleetMetrics
{
    public const string MeterName = "AccessLayer.Gateway";

    private readonly Counter<long> _forwarded;
    private readonly Counter<long> _forwardBatches;
    private readonly Counter<long> _forwardDropped;
    private readonly Counter<long> _received;
    private readonly Counter<long> _claims;
    private readonly Counter<long> _forwardPauses;
    private readonly Counter<long> _forwardPressureWaived;

    public FleetMetrics(IMeterFactory meterFactory, Func<int> nodes, Func<int> routes, Func<int> localRoutes, Func<int> durableSubscriptions)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("fleet.nodes", nodes, description: "Active nodes of the fleet this node sees, itself included.");
        meter.CreateObservableGauge("fleet.routes", routes, description: "Route rows (topic filter, node) in this node's replica of the route table.");
        meter.CreateObservableGauge("fleet.routes.local", localRoutes, description: "Topic filters this node has subscribers to.");
        meter.CreateObservableGauge("fleet.durable.subscriptions", durableSubscriptions, description: "Durable subscriptions (persistent sessions, QoS 1/2) known fleet-wide.");
        _forwarded = meter.CreateCounter<long>("fleet.forwarded", description: "Messages forwarded to peers.");
        _forwardBatches = meter.CreateCounter<long>("fleet.forward.batches", description: "Forward batches sent to peers.");
        _forwardDropped = meter.CreateCounter<long>("fleet.forward.dropped", description: "Forwards lost, by reason (queue_full, peer_failed, peer_gone).");
        _received = meter.CreateCounter<long>("fleet.received", description: "Messages peers forwarded to this node.");
        _forwardPauses = meter.CreateCounter<long>("fleet.forward.pauses", description: "Publishes that waited because a peer was more than two forward batches behind.");
        _forwardPressureWaived = meter.CreateCounter<long>("fleet.forward.pressure_waived", description: "Waits on a peer that expired (Limits:PublisherBackPressureWait), waiving its pressure for a while.");
        _claims = meter.CreateCounter<long>("fleet.session.claims", description: "Sessions claimed at CONNECT, by how (new, local, handover, dead_node).");
    }

    public void Forwarded(int messages)
    {
        _forwarded.Add(messages);
        _forwardBatches.Add(1);
    }

    public void ForwardDropped(int messages, string reason) => _forwardDropped.Add(messages, new KeyValuePair<string, object?>("reason", reason));

    public void ForwardPaused() => _forwardPauses.Add(1);

    public void ForwardPressureWaived() => _forwardPressureWaived.Add(1);

    public void Received(int messages) => _received.Add(messages);

    public void Claimed(string how) => _claims.Add(1, new KeyValuePair<string, object?>("how", how));
}
