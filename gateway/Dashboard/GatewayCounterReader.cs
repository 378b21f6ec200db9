using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// Reads this node's own instruments in-process with a <see cref="MeterListener"/> (whatever exports them):
/// open connections by listener, accepted connections (MQTT CONNECTs and MLP HELLOs), messages in/out (MQTT
/// PUBLISHes; MLP requests in, pushes out), drops and evictions by reason, back-pressure pauses. Only the
/// instruments of this host's meter factory are read, so gateways sharing a process (tests) do not mix.
/// Per-message MQTT figures are observable counters read at <see cref="Read"/>; the tagged counters it listens to
/// fire per connection event or MLP request, never per MQTT message.
/// </summary>
internal sealed class GatewayCounterReader : IGatewayCounters, IDisposable
{
    private static readonly HashSet<string> Observed =
    [
        "gateway.connections", "mqtt.messages.received", "mqtt.messages.sent", "mqtt.messages.dropped", "mqtt.backpressure.pauses",
    ];

    private static readonly HashSet<string> Counted =
    [
        "mqtt.connections.accepted", "mlp.handshakes.accepted", "mqtt.disconnects", "mlp.requests", "mlp.pushes.sent",
    ];

    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _factory;
    private readonly ConcurrentDictionary<(string Name, string Tag), StrongBox> _counted = new();
    private readonly Dictionary<(string Name, string Tag), long> _observed = [];
    private readonly Lock _readGate = new();

    public GatewayCounterReader(IMeterFactory factory, GatewayMetrics metrics)
    {
        // The gateway's instruments exist once GatewayMetrics does: take it so they are published before Start.
        _ = metrics;
        _factory = factory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, _factory)
                && (Observed.Contains(instrument.Name) || Counted.Contains(instrument.Name)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => OnMeasurement(instrument, value, tags, state));
        _listener.Start();
    }

    public CounterReading Read()
    {
        lock (_readGate)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            var drops = new Dictionary<string, long>(StringComparer.Ordinal);
            var evictions = new Dictionary<string, long>(StringComparer.Ordinal);
            int tcp = 0, tls = 0, ws = 0, mlp = 0;
            long messagesIn = 0, messagesOut = 0, pauses = 0, accepted = 0;
            foreach (var ((name, tag), value) in _observed)
            {
                switch (name)
                {
                    case "gateway.connections":
                        switch (tag)
                        {
                            case ListenerNames.MqttTcp: tcp += (int)value; break;
                            case ListenerNames.MqttTls: tls += (int)value; break;
                            case ListenerNames.WebSocket or ListenerNames.SecureWebSocket: ws += (int)value; break;
                            case ListenerNames.Mlp or ListenerNames.MlpTls or ListenerNames.MlpWebSocket or ListenerNames.MlpSecureWebSocket: mlp += (int)value; break;
                        }

                        break;
                    case "mqtt.messages.received": messagesIn += value; break;
                    case "mqtt.messages.sent": messagesOut += value; break;
                    case "mqtt.backpressure.pauses": pauses += value; break;
                    case "mqtt.messages.dropped": drops[tag] = value; break;
                }
            }

            foreach (var ((name, tag), box) in _counted)
            {
                var value = Interlocked.Read(ref box.Value);
                switch (name)
                {
                    case "mqtt.connections.accepted" or "mlp.handshakes.accepted": accepted += value; break;
                    case "mlp.requests": messagesIn += value; break;
                    case "mlp.pushes.sent": messagesOut += value; break;
                    case "mqtt.disconnects": evictions[tag] = value; break;
                }
            }

            return new CounterReading(tcp, tls, ws, mlp, accepted, messagesIn, messagesOut, pauses, drops, evictions, Environment.WorkingSet, GC.GetTotalMemory(false));
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var key = (instrument.Name, TagOf(instrument.Name, tags));
        if (instrument.IsObservable)
        {
            // Only during RecordObservableInstruments, under _readGate.
            _observed[key] = _observed.GetValueOrDefault(key) + value;
        }
        else
        {
            Interlocked.Add(ref _counted.GetOrAdd(key, static _ => new StrongBox()).Value, value);
        }
    }

    /// <summary>The tag a figure is split by (listener, reason); other tags are summed over.</summary>
    private static string TagOf(string instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var wanted = instrument == "gateway.connections" ? "listener" : "reason";
        foreach (var tag in tags)
        {
            if (tag.Key == wanted)
            {
                return tag.Value?.ToString() ?? string.Empty;
            }
        }

        return string.Empty;
    }

    public void Dispose() => _listener.Dispose();

    private sealed class StrongBox
    {
        public long Value;
    }
}
