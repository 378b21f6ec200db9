namespace AccessLayer.SessionGrains.Routes;

/// <summary>
/// A change of one node's route rows (topic filters with at least one subscriber on that node,
/// shared ones as <c>$share/group/filter</c>), numbered per sending node so a receiver can tell
/// a stale or missed update; a snapshot replaces every row of the sender. Durable subscriptions
/// (per client, owned by the session rather than the node) ride along.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RouteUpdate(
    [property: Id(0)] string FromNode,
    [property: Id(1)] long Version,
    [property: Id(2)] bool IsSnapshot,
    [property: Id(3)] string[] Added,
    [property: Id(4)] string[] Removed,
    [property: Id(5)] DurableSubscriptionRow[] Durable);

/// <summary>The durable subscriptions of one client (encoded with <see cref="Forwarding.FleetCodec.EncodeSubscriptions"/>), or null when it has none any more.</summary>
[GenerateSerializer, Immutable]
public sealed record DurableSubscriptionRow(
    [property: Id(0)] string ClientId,
    [property: Id(1)] byte[]? Subscriptions);
