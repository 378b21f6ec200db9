namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// A client's session as the fleet knows it, keyed by client id: which node owns it, the epoch of
/// that ownership (a fencing token: every claim raises it, and a write carrying an older one is
/// ignored), the owning identity, and the subscriptions a node resuming it after its owner died
/// starts from. Called per connection event, never per message; deactivates after each call.
/// </summary>
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>Makes <paramref name="node"/> the owner at a new epoch (refused for another identity's session).</summary>
    Task<SessionGrainClaim> ClaimAsync(string node, bool cleanStart, string? owner);

    /// <summary>Records the subscriptions (encoded) of the ownership at <paramref name="epoch"/>; ignored for an older epoch.</summary>
    Task SaveSubscriptionsAsync(long epoch, byte[] subscriptions);

    /// <summary>The session ended under the ownership at <paramref name="epoch"/>: forget it; ignored for an older epoch.</summary>
    Task EndAsync(long epoch);
}

/// <summary>What a claim found and made.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionGrainClaim(
    [property: Id(0)] long Epoch,
    [property: Id(1)] string? PreviousNode,
    [property: Id(2)] bool OwnedByAnotherIdentity,
    [property: Id(3)] byte[]? Subscriptions);
