namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// A client's session as the fleet knows it, keyed by client id: which node owns it, the epoch of
/// that ownership (a fencing token: every claim raises it, and a write carrying an older one is
/// ignored), the owning identity, and the subscriptions a node resuming it after its owner died
/// starts from. The claim at CONNECT and the end of a session are the record's own scripts, run by
/// the node (<see cref="SessionRecords"/>); the grain carries a persistent session's subscriptions
/// and the reaper's work on a dead node's sessions. Never called per message; deactivates after each call.
/// </summary>
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// <paramref name="node"/> died: what its session here must become (its epoch, expiry and will delay), or null when
    /// another node owns it by now (or there is none). Writes nothing: the epoch fences what is done later.
    /// </summary>
    Task<SessionOrphan?> FindOrphanAsync(string node);

    /// <summary>The orphan's will delay ran out: returns the will (and forgets it) if the session is still the one orphaned at <paramref name="epoch"/>.</summary>
    Task<byte[]?> TakeOrphanWillAsync(long epoch);

    /// <summary>The orphan's session expired: forgets it if still the one orphaned at <paramref name="epoch"/>; returns whether it did and the will not yet published.</summary>
    Task<SessionOrphanEnd> EndOrphanAsync(long epoch);

    /// <summary>Records the subscriptions (encoded) of the ownership at <paramref name="epoch"/>; ignored for an older epoch.</summary>
    Task SaveSubscriptionsAsync(long epoch, byte[] subscriptions);
}

/// <summary>A session whose node died, as found in its grain.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionOrphan(
    [property: Id(0)] long Epoch,
    [property: Id(1)] uint ExpiryInterval,
    [property: Id(2)] uint? WillDelayInterval);

/// <summary>What ending an orphaned session did.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionOrphanEnd(
    [property: Id(0)] bool Ended,
    [property: Id(1)] byte[]? Will);
