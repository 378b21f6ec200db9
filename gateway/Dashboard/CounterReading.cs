namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// The node's counters at one moment: connections open per listener family (gauges) and totals since start
/// (monotonic), from which a sample's rates are the difference with the previous reading.
/// </summary>
internal sealed record CounterReading(
    int MqttTcp,
    int MqttTls,
    int MqttWebSocket,
    int Mlp,
    long ConnectsAccepted,
    long MessagesIn,
    long MessagesOut,
    long BackPressurePauses,
    IReadOnlyDictionary<string, long> DropsByReason,
    IReadOnlyDictionary<string, long> EvictionsByReason,
    long WorkingSetBytes,
    long GcHeapBytes)
{
    public long Drops => DropsByReason.Values.Sum();

    public long Evictions => EvictionsByReason.Values.Sum();
}

/// <summary>Reads the node's counters in-process (not from the <c>/metrics</c> text).</summary>
internal interface IGatewayCounters
{
    CounterReading Read();
}
