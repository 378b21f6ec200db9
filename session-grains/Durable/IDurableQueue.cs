namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// QoS 1/2 messages for persistent sessions, kept in Redis from before the publisher's PUBACK
/// until the subscriber acknowledges them, so a node that dies loses none of them. Keyed by
/// client id; each entry is a delivery encoded by <see cref="Forwarding.FleetCodec"/> under a
/// unique id. Writes are group-committed (one pipelined round trip for everything that arrived
/// while the previous commit was in flight; no timer). Layout and guarantees: docs/fleet-durability.md.
/// </summary>
public interface IDurableQueue
{
    /// <summary>Appends one entry per client (the same encoded delivery to each); completes once Redis has them all.</summary>
    ValueTask AppendAsync(IReadOnlyList<string> clientIds, Guid id, ReadOnlyMemory<byte> delivery, CancellationToken cancellationToken = default);

    /// <summary>Removes an acknowledged entry. Batched like appends; completes once removed.</summary>
    ValueTask AcknowledgeAsync(string clientId, Guid id, CancellationToken cancellationToken = default);

    /// <summary>Every entry of a client, oldest first.</summary>
    ValueTask<IReadOnlyList<DurableEntry>> LoadAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>Drops a client's queue (its session ended).</summary>
    ValueTask DeleteAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>Records the durable subscriptions of a client (encoded by <see cref="Forwarding.FleetCodec"/>), or forgets them when null.</summary>
    ValueTask SetSubscriptionsAsync(string clientId, byte[]? subscriptions, CancellationToken cancellationToken = default);

    /// <summary>Every client's durable subscriptions, as recorded.</summary>
    ValueTask<IReadOnlyDictionary<string, byte[]>> LoadSubscriptionsAsync(CancellationToken cancellationToken = default);
}

/// <summary>One queued delivery: its id and encoded bytes.</summary>
public readonly record struct DurableEntry(Guid Id, ReadOnlyMemory<byte> Delivery);
