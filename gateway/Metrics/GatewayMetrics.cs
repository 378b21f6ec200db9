using System.Diagnostics.Metrics;

namespace AccessLayer.Gateway.Metrics;

/// <summary>The gateway's instruments. One meter so the Prometheus endpoint and OpenTelemetry see the same names.</summary>
internal sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "AccessLayer.Gateway";

    private readonly Meter _meter;
    private long _mqttConnections;
    private long _messagesReceived;
    private long _messagesSent;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("mqtt.connections", () => Volatile.Read(ref _mqttConnections), description: "MQTT connections open now (CONNECT accepted).");
        ConnectionsAccepted = _meter.CreateCounter<long>("mqtt.connections.accepted", description: "MQTT connections whose CONNECT was accepted.");
        ConnectionsRejected = _meter.CreateCounter<long>("mqtt.connections.rejected", description: "MQTT CONNECTs refused, by reason.");
        Disconnects = _meter.CreateCounter<long>("mqtt.disconnects", description: "MQTT connections closed, by reason.");
        MessagesReceived = _meter.CreateCounter<long>("mqtt.messages.received", description: "PUBLISH packets received from clients.");
        MessagesSent = _meter.CreateCounter<long>("mqtt.messages.sent", description: "PUBLISH packets sent to clients.");
        BytesReceived = _meter.CreateCounter<long>("mqtt.bytes.received", "By", "Bytes of MQTT packets received.");
        BytesSent = _meter.CreateCounter<long>("mqtt.bytes.sent", "By", "Bytes of MQTT packets sent.");
        MessagesDropped = _meter.CreateCounter<long>("mqtt.messages.dropped", description: "Messages dropped, by reason (queue_full, expired, slow_consumer, too_large, no_subscribers).");
        ProtocolErrors = _meter.CreateCounter<long>("mqtt.protocol.errors", description: "Connections closed for a protocol violation, by reason code.");
        ConnectionsRefused = _meter.CreateCounter<long>("gateway.connections.refused", description: "Connections closed at accept, before any protocol byte, by reason (max_connections, listener_full, connect_rate, draining) and listener.");
        AclDenied = _meter.CreateCounter<long>("mqtt.acl.denied", description: "PUBLISHes and SUBSCRIBE filters refused by the ACL, by action.");
        DrainMoved = _meter.CreateCounter<long>("gateway.drain.moved", description: "Connections moved away by a drain, by protocol.");
    }

    public Counter<long> ConnectionsAccepted { get; }
    public Counter<long> ConnectionsRejected { get; }
    public Counter<long> Disconnects { get; }
    public Counter<long> MessagesReceived { get; }
    public Counter<long> MessagesSent { get; }
    public Counter<long> BytesReceived { get; }
    public Counter<long> BytesSent { get; }
    public Counter<long> MessagesDropped { get; }
    public Counter<long> ProtocolErrors { get; }
    public Counter<long> ConnectionsRefused { get; }
    public Counter<long> AclDenied { get; }
    public Counter<long> DrainMoved { get; }

    /// <summary>Registers a gauge sampled at scrape time (the meter owns its lifetime).</summary>
    public void ObserveGauge(string name, Func<long> observe, string description, string? unit = null) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    /// <summary>Registers a gauge with one series per tag set, sampled at scrape time.</summary>
    public void ObserveGauges(string name, Func<IEnumerable<Measurement<long>>> observe, string description) =>
        _meter.CreateObservableGauge(name, observe, description: description);

    /// <summary>Counts a connection the broker closed on purpose (an eviction), by reason.</summary>
    public void Evicted(string reason) =>
        Disconnects.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public long MqttConnections => Volatile.Read(ref _mqttConnections);

    /// <summary>Totals kept beside the counters for $SYS, which publishes them as values.</summary>
    public long MessagesReceivedTotal => Volatile.Read(ref _messagesReceived);

    public long MessagesSentTotal => Volatile.Read(ref _messagesSent);

    public void MessageReceived()
    {
        Interlocked.Increment(ref _messagesReceived);
        MessagesReceived.Add(1);
    }

    public void MessageSent()
    {
        Interlocked.Increment(ref _messagesSent);
        MessagesSent.Add(1);
    }

    public void MqttConnectionOpened()
    {
        Interlocked.Increment(ref _mqttConnections);
        ConnectionsAccepted.Add(1);
    }

    public void MqttConnectionClosed() => Interlocked.Decrement(ref _mqttConnections);

    public void Dropped(string reason, long count = 1) =>
        MessagesDropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
