namespace AccessLayer.SessionGrains.Nodes;

/// <summary>
/// One second (one sample interval) of a node as its dashboard charts it: connections open at the sample, per
/// listener family, rates over the interval before it, and memory. Rates are per second.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record NodeStatsSample(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int MqttTcp,
    [property: Id(2)] int MqttTls,
    [property: Id(3)] int MqttWebSocket,
    [property: Id(4)] int Mlp,
    [property: Id(5)] double ConnectsPerSecond,
    [property: Id(6)] double MessagesInPerSecond,
    [property: Id(7)] double MessagesOutPerSecond,
    [property: Id(8)] double DropsPerSecond,
    [property: Id(9)] double BackPressurePausesPerSecond,
    [property: Id(10)] double EvictionsPerSecond,
    [property: Id(11)] long WorkingSetBytes,
    [property: Id(12)] long GcHeapBytes);

/// <summary>
/// A node's recent history (<see cref="Samples"/>, oldest first, those after the asked time) and its totals since
/// start: evictions and drops by reason. <see cref="Interval"/> is the node's sample interval.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record NodeStats(
    [property: Id(0)] string NodeId,
    [property: Id(1)] TimeSpan Interval,
    [property: Id(2)] NodeStatsSample[] Samples,
    [property: Id(3)] Dictionary<string, long> EvictionsByReason,
    [property: Id(4)] Dictionary<string, long> DropsByReason,
    [property: Id(5)] long BackPressurePauses);

/// <summary>What a drain call asks of a node.</summary>
public enum NodeDrainCommand
{
    Status,
    Start,
    Cancel,
}

/// <summary>
/// A node's drain as a peer sees it. <see cref="Accepted"/>: whether the command did something (a start when
/// none ran, a cancel when one ran); always true for <see cref="NodeDrainCommand.Status"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record NodeDrainStatus(
    [property: Id(0)] string State,
    [property: Id(1)] DateTimeOffset? StartedAt,
    [property: Id(2)] long Moved,
    [property: Id(3)] int Remaining,
    [property: Id(4)] bool Accepted);
