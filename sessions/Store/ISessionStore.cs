using AccessLayer.Sessions.Queue;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// Sessions that outlive connections, keyed by client id: lifecycle (open, take over,
/// disconnect, expiry), and the state MQTT persists with a session: subscriptions, outgoing
/// inflight messages, incoming QoS 2 packet ids awaiting PUBREL, the will, and the offline
/// queue. Plain data in and out, never a live connection, so a Redis implementation can
/// serialise every call. Calls that change a session on behalf of a connection take its
/// <see cref="SessionToken"/> and throw <see cref="SessionTakenOverException"/> when it is stale.
/// </summary>
public interface ISessionStore
{
    /// <summary>
    /// Opens the session for a CONNECT: creates it, resumes it, or discards and recreates it
    /// (Clean Start, or it had expired). A connection still holding it is taken over.
    /// </summary>
    ValueTask<SessionOpenResult> OpenAsync(SessionConnectRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// The connection behind <paramref name="token"/> ended. <paramref name="publishWill"/> is false for
    /// a normal DISCONNECT (0x00, the will is discarded) and true otherwise (network loss, protocol
    /// error, DISCONNECT 0x04). <paramref name="sessionExpiryInterval"/> is the DISCONNECT's new interval, if any.
    /// A stale token changes nothing (<see cref="SessionDisconnectResult.Applied"/> false).
    /// </summary>
    ValueTask<SessionDisconnectResult> DisconnectAsync(SessionToken token, bool publishWill, uint? sessionExpiryInterval = null, CancellationToken cancellationToken = default);

    /// <summary>Ends sessions whose expiry passed and collects delayed wills now due, by the store's <see cref="TimeProvider"/>. Call it periodically.</summary>
    ValueTask<SessionExpiryResult> RemoveExpiredAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends a session now whatever its state (administrative kick); false when there was none.</summary>
    ValueTask<bool> RemoveAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>A snapshot of the session, or null when there is none.</summary>
    ValueTask<SessionState?> GetAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>Records (or replaces, by filter) a subscription of the session.</summary>
    ValueTask SetSubscriptionAsync(SessionToken token, Subscription subscription, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the session may hold <paramref name="topicFilter"/> within <paramref name="maxSubscriptions"/>
    /// (0: no bound): it already does (a SUBSCRIBE replacing it adds nothing) or holds fewer. Only the
    /// owning connection subscribes, one packet at a time, so the answer holds until it subscribes.
    /// </summary>
    ValueTask<bool> HasRoomForSubscriptionAsync(SessionToken token, string topicFilter, int maxSubscriptions, CancellationToken cancellationToken = default);

    /// <summary>Forgets a subscription; false when the session had none with that filter.</summary>
    ValueTask<bool> RemoveSubscriptionAsync(SessionToken token, string topicFilter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records an outgoing QoS 1/2 delivery and allocates its packet identifier (one not in use
    /// by the session). Returns 0 when the session already has the maximum inflight messages.
    /// </summary>
    ValueTask<ushort> AddInflightAsync(SessionToken token, MessageDelivery delivery, CancellationToken cancellationToken = default);

    /// <summary>Moves an inflight message to <paramref name="state"/> (PUBREC received: <see cref="OutgoingState.AwaitingPubComp"/>); false for an unknown packet id.</summary>
    ValueTask<bool> SetInflightStateAsync(SessionToken token, ushort packetId, OutgoingState state, CancellationToken cancellationToken = default);

    /// <summary>Completes an inflight message (PUBACK or PUBCOMP); false for an unknown packet id.</summary>
    ValueTask<bool> RemoveInflightAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default);

    /// <summary>Records an incoming QoS 2 PUBLISH's packet id; false when it was already awaiting PUBREL (a duplicate: do not forward again).</summary>
    ValueTask<bool> AddIncomingAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default);

    /// <summary>Releases an incoming QoS 2 packet id on PUBREL; false when unknown (PUBCOMP 0x92, Packet Identifier not found).</summary>
    ValueTask<bool> ReleaseIncomingAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues a delivery for the session of <paramref name="clientId"/> (normally one that is
    /// offline), applying the queue bound and drop policy; the result reports losses for metrics.
    /// </summary>
    ValueTask<EnqueueResult> EnqueueAsync(string clientId, MessageDelivery delivery, CancellationToken cancellationToken = default);

    /// <summary>Takes up to <paramref name="maxCount"/> queued deliveries, oldest first, skipping expired ones.</summary>
    ValueTask<DequeueResult> DequeueAsync(SessionToken token, int maxCount, CancellationToken cancellationToken = default);
}
