using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Metrics;

namespace AccessLayer.Gateway.Mlp;

/// <summary>MLP instruments, on the gateway's meter so /metrics and OpenTelemetry see them beside the MQTT ones.</summary>
internal sealed class MlpMetrics : IDisposable
{
    private readonly Meter _meter;
    private long _connections;

    public MlpMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(GatewayMetrics.MeterName);
        _meter.CreateObservableUpDownCounter("mlp.connections", () => Volatile.Read(ref _connections), description: "MLP connections open now (HELLO accepted).");
        HandshakesAccepted = _meter.CreateCounter<long>("mlp.handshakes.accepted", description: "HELLOs accepted, by kind (token, anonymous, resumed, ticket, secondary).");
        HandshakesRejected = _meter.CreateCounter<long>("mlp.handshakes.rejected", description: "HELLOs refused, by reason code.");
        Disconnects = _meter.CreateCounter<long>("mlp.disconnects", description: "MLP connections closed after the handshake, by reason.");
        ProtocolErrors = _meter.CreateCounter<long>("mlp.protocol.errors", description: "Connection errors (GOAWAY sent), by code.");
        StreamErrors = _meter.CreateCounter<long>("mlp.stream.errors", description: "Stream errors (ERROR sent), by code.");
        Requests = _meter.CreateCounter<long>("mlp.requests", description: "Requests answered, by service (a configured route, else other) and status class, over the long link or the HTTP fallback.");
        EarlyDataRequests = _meter.CreateCounter<long>("mlp.early_data.requests", description: "REQUESTs that arrived in TLS 0-RTT early data, by outcome: served (IDEMPOTENT, run at once) or deferred (run once the handshake had completed).");
        BytesReceived = _meter.CreateCounter<long>("mlp.bytes.received", "By", "Bytes of MLP frames received.");
        BytesSent = _meter.CreateCounter<long>("mlp.bytes.sent", "By", "Bytes of MLP frames sent.");
        PushesAccepted = _meter.CreateCounter<long>("mlp.pushes.accepted", description: "Pushes accepted by the push API (queued for a device).");
        PushesSent = _meter.CreateCounter<long>("mlp.pushes.sent", description: "PUSH frames sent, by kind (new, redelivered, unsequenced).");
        PushesAcknowledged = _meter.CreateCounter<long>("mlp.pushes.acknowledged", description: "Sequenced pushes acknowledged by clients.");
        PushesDropped = _meter.CreateCounter<long>("mlp.pushes.dropped", description: "Pushes dropped, by reason (queue_full, offline).");
        CallCopiesCoalesced = _meter.CreateCounter<long>("mlp.call_copies.coalesced", description: "Copies of a call (same mlp-call-id) answered without a backend call of their own, by from: running (joined the call in flight) or kept (its kept answer).");
        CallsNotCoalesced = _meter.CreateCounter<long>("mlp.calls.not_coalesced", description: "Calls with an mlp-call-id not coalesced (invoked or answered as without it) because a coalescer bound was hit, by bound (calls, bytes).");
        BodiesCompressed = _meter.CreateCounter<long>("mlp.bodies.compressed", description: "Response and push bodies sent zstd-compressed, by dictionary (none or the id).");
    }

    public Counter<long> HandshakesAccepted { get; }
    public Counter<long> HandshakesRejected { get; }
    public Counter<long> Disconnects { get; }
    public Counter<long> ProtocolErrors { get; }
    public Counter<long> StreamErrors { get; }
    public Counter<long> Requests { get; }

    public Counter<long> EarlyDataRequests { get; }
    public Counter<long> BytesReceived { get; }
    public Counter<long> BytesSent { get; }
    public Counter<long> PushesAccepted { get; }
    public Counter<long> PushesSent { get; }
    public Counter<long> PushesAcknowledged { get; }
    public Counter<long> PushesDropped { get; }
    public Counter<long> BodiesCompressed { get; }
    public Counter<long> CallCopiesCoalesced { get; }
    public Counter<long> CallsNotCoalesced { get; }

    /// <summary>The <c>service</c> label of requests for services that are not routed: label values never come from client input.</summary>
    public const string OtherService = "other";

    public long Connections => Volatile.Read(ref _connections);

    public void ConnectionOpened() => Interlocked.Increment(ref _connections);

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);

    public void Dispose() => _meter.Dispose();
}
