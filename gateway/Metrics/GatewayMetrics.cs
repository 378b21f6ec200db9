using System.Diagnostics.Metrics;

namespace AccessLayer.Gateway.Metrics;

/// <summary>
/// The gateway's instruments. Per-message figures (messages, bytes, drops) are plain
/// interlocked totals published as observable counters: the hot path pays one atomic add and
/// no listener callback, and the exporter samples them at scrape time. Rare events with a
/// reason (rejections, disconnects, protocol errors) are ordinary tagged counters.
/// </summary>
internal sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "AccessLayer.Gateway";

    /// <summary>Why a message was not delivered; the label values of <c>accesslayer_mqtt_messages_dropped_total</c>.</summary>
    private static readonly string[] DropReasons = ["queue_full", "expired", "slow_consumer", "too_large", "no_subscribers", "offline_qos0", "no_session", "not_authorized", "other"];

    private readonly Meter _meter;
    private readonly long[] _drops = new long[DropReasons.Length];
    private long _mqttConnections;
    private long _messagesReceived;
    private long _messagesSent;
    private long _bytesReceived;
    private long _bytesSent;
    private long _backPressurePauses;
    private long _backPressureExpired;
    private long _backPressurePausedTicks;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("mqtt.connections", () => Volatile.Read(ref _mqttConnections), description: "MQTT connections open now (CONNECT accepted).");
        _meter.CreateObservableCounter("mqtt.messages.received", () => Volatile.Read(ref _messagesReceived), description: "PUBLISH packets received from clients.");
        _meter.CreateObservableCounter("mqtt.messages.sent", () => Volatile.Read(ref _messagesSent), description: "PUBLISH packets sent to clients.");
        _meter.CreateObservableCounter("mqtt.bytes.received", () => Volatile.Read(ref _bytesReceived), "By", "Bytes of MQTT packets received.");
        _meter.CreateObservableCounter("mqtt.bytes.sent", () => Volatile.Read(ref _bytesSent), "By", "Bytes of MQTT packets sent.");
        _meter.CreateObservableCounter("mqtt.messages.dropped", ObserveDrops, description: "Messages not delivered, by reason (queue_full, expired, slow_consumer, too_large, no_subscribers, offline_qos0, no_session).");
        _meter.CreateObservableCounter("mqtt.backpressure.pauses", () => Volatile.Read(ref _backPressurePauses), description: "Times a publisher's read loop paused for a subscriber past its high watermark.");
        _meter.CreateObservableCounter("mqtt.backpressure.expired", () => Volatile.Read(ref _backPressureExpired), description: "Back-pressure pauses that ran out the Limits:PublisherBackPressureWait before the subscriber drained.");
        _meter.CreateObservableCounter("mqtt.backpressure.paused.seconds", () => TimeSpan.FromTicks(Volatile.Read(ref _backPressurePausedTicks)).TotalSeconds, "s", "Time publishers' read loops spent paused by back-pressure, summed over publishers.");
        ConnectionsAccepted = _meter.CreateCounter<long>("mqtt.connections.accepted", description: "MQTT connections whose CONNECT was accepted.");
        ConnectionsRejected = _meter.CreateCounter<long>("mqtt.connections.rejected", description: "MQTT CONNECTs refused, by reason.");
        Disconnects = _meter.CreateCounter<long>("mqtt.disconnects", description: "MQTT connections closed by the broker, by reason.");
        ProtocolErrors = _meter.CreateCounter<long>("mqtt.protocol.errors", description: "Connections closed for a protocol violation, by reason code.");
        ConnectionsRefused = _meter.CreateCounter<long>("gateway.connections.refused", description: "Connections closed at accept, before any protocol byte, by reason (max_connections, listener_full, connect_rate, draining) and listener.");
        AclDenied = _meter.CreateCounter<long>("mqtt.acl.denied", description: "PUBLISHes and SUBSCRIBE filters refused by the ACL, by action.");
        DrainMoved = _meter.CreateCounter<long>("gateway.drain.moved", description: "Connections moved away by a drain, by protocol.");
        QuotaExceeded = _meter.CreateCounter<long>("mqtt.quota.exceeded", description: "Requests a broker quota refused or did not keep, by quota (subscriptions, sessions, retained_messages, retained_bytes).");
        DurableDeferred = _meter.CreateCounter<long>("mqtt.messages.deferred", description: "QoS 1/2 deliveries a full session queue let go while the fleet's Redis keeps them for the session (read back once its queue has run empty; not lost).");
        LoopFailures = _meter.CreateCounter<long>("gateway.loop.failures", description: "Unexpected exceptions the gateway's own loops survived, by loop (mqtt_maintenance, mlp_maintenance, drain, mqtt_writer, mlp_writer, epoll).");
    }

    public Counter<long> ConnectionsAccepted { get; }

    public Counter<long> ConnectionsRejected { get; }

    public Counter<long> Disconnects { get; }

    public Counter<long> ProtocolErrors { get; }
    public Counter<long> ConnectionsRefused { get; }
    public Counter<long> AclDenied { get; }
    public Counter<long> DrainMoved { get; }
    public Counter<long> LoopFailures { get; }

    public Counter<long> DurableDeferred { get; }

    /// <summary>Counts an unexpected exception one of the gateway's loops caught and survived.</summary>
    public void LoopFailed(string loop) =>
        LoopFailures.Add(1, new KeyValuePair<string, object?>("loop", loop));

    public Counter<long> QuotaExceeded { get; }

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

    public long MessagesReceivedTotal => Volatile.Read(ref _messagesReceived);

    public long MessagesSentTotal => Volatile.Read(ref _messagesSent);

    public void MessageReceived() => Interlocked.Increment(ref _messagesReceived);

    public void MessageSent() => Interlocked.Increment(ref _messagesSent);

    public long BackPressurePauses => Volatile.Read(ref _backPressurePauses);

    public long BackPressureExpired => Volatile.Read(ref _backPressureExpired);

    public TimeSpan BackPressurePausedTime => TimeSpan.FromTicks(Volatile.Read(ref _backPressurePausedTicks));

    /// <summary>Counts one back-pressure pause of a publisher and how long it lasted.</summary>
    public void PublisherPaused(TimeSpan paused, bool expired)
    {
        Interlocked.Increment(ref _backPressurePauses);
        Interlocked.Add(ref _backPressurePausedTicks, paused.Ticks);
        if (expired)
        {
            Interlocked.Increment(ref _backPressureExpired);
        }
    }

    public void AddBytesReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    public void AddBytesSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    public void MqttConnectionOpened()
    {
        Interlocked.Increment(ref _mqttConnections);
        ConnectionsAccepted.Add(1);
    }

    public void MqttConnectionClosed() => Interlocked.Decrement(ref _mqttConnections);

    public void Dropped(string reason, long count = 1)
    {
        var index = Array.IndexOf(DropReasons, reason);
        Interlocked.Add(ref _drops[index < 0 ? DropReasons.Length - 1 : index], count);
    }

    public long DroppedTotal(string reason) => Volatile.Read(ref _drops[Array.IndexOf(DropReasons, reason)]);

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        for (var i = 0; i < DropReasons.Length; i++)
        {
            var count = Volatile.Read(ref _drops[i]);
            if (count != 0)
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("reason", DropReasons[i]));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
