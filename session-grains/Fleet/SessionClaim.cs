using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Store;

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

    /// <summary>What the session held elsewhere (subscriptions, messages owed); null when it starts afresh here or was already here.</summary>
    public SessionHandover? Resumed { get; init; }

    /// <summary>Durable queue entries for the client not already in <see cref="Resumed"/>, oldest first.</summary>
    public IReadOnlyList<MessageDelivery> Durable { get; init; } = [];
}
