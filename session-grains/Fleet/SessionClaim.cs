using AccessLayer.SessionGrains.Sessions;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// The outcome of claiming a client's session for this node at CONNECT: the fleet-wide epoch
/// (fencing token) this connection holds, and what the session had elsewhere — handed over by
/// a live previous node, or read back from the session grain and the durable queue when that
/// node is dead.
/// </summary>
public sealed record SessionClaim
{
    /// <summary>The session grain's epoch for this ownership.</summary>
    public long Epoch { get; init; }

    /// <summary>The session belongs to another identity: refuse the CONNECT.</summary>
    public bool OwnedByAnotherIdentity { get; init; }

    /// <summary>The node that owned the session before, if another one.</summary>
    public string? PreviousNode { get; init; }

    /// <summary>
    /// What the session held on another node (subscriptions, messages owed), handed over by it or, when it is dead, its
    /// subscriptions from the grain; null when the session starts afresh or was already on this node. Its durable queue
    /// entries come from <see cref="IFleet.LoadDurableAsync"/>.
    /// </summary>
    public SessionHandover? Resumed { get; init; }
}
