using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Mlp;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// The fleet as this node's broker sees it. Per connection event (CONNECT, SUBSCRIBE,
/// UNSUBSCRIBE, session end) it calls a grain or replicates a route; per message it only reads
/// the local replica of the route table, forwards to peers in batches and, for persistent
/// sessions, appends to durable queues. Alone (<see cref="IsEnabled"/> false) the broker calls none of it.
/// </summary>
public interface IFleet
{
    bool IsEnabled { get; }

    /// <summary>This node's id (its silo address); empty until the silo started.</summary>
    string NodeId { get; }

    /// <summary>Completes once the node has joined and holds its peers' routes.</summary>
    Task Ready { get; }

    /// <summary>Connects the protocols of this node; called once at start.</summary>
    void Attach(IFleetLocalNode local);

    /// <summary>A local session subscribed to <paramref name="topicFilter"/> (first subscriber on this node: peers learn the route before this completes, or the replication timeout passes).</summary>
    ValueTask AddLocalRouteAsync(string topicFilter, CancellationToken cancellationToken = default);

    /// <summary>A local subscription to <paramref name="topicFilter"/> went away.</summary>
    void RemoveLocalRoute(string topicFilter);

    /// <summary>Records the durable subscriptions (persistent session, QoS 1/2, not shared) of a client fleet-wide; null: none any more.</summary>
    ValueTask SetDurableSubscriptionsAsync(string clientId, IReadOnlyList<Subscription>? subscriptions, CancellationToken cancellationToken = default);

    /// <summary>Plans the fleet side of a publish; false when it has none (no peer route, nobody durable, not retained).</summary>
    bool TryPlan(string topic, string? publisherClientId, MqttQualityOfService qos, bool retain, PublishPlan plan);

    /// <summary>
    /// Starts writing a planned publish to the durable queues of the durable subscribers it matched (nothing when none did).
    /// Called right after <see cref="TryPlan"/>, before the local deliveries and the forwarding, which may wait for slow
    /// subscribers: a session resuming meanwhile waits for the write (see <see cref="LoadDurableAsync"/>), so the write has to
    /// be under way from the moment the publish was planned against a route table that did not have the resumed session yet.
    /// </summary>
    void StartDurable(PublishPlan plan, MqttApplicationMessage message);

    /// <summary>
    /// Forwards a planned publish to its peers and, when durable subscribers matched, completes once Redis holds it for them.
    /// A peer more than two batches behind holds the caller up to <paramref name="backPressureWait"/> (zero: never).
    /// </summary>
    ValueTask ForwardAsync(PublishPlan plan, MqttApplicationMessage message, string? publisherClientId, TimeSpan backPressureWait);

    /// <summary>A client acknowledged a delivery that sits in its durable queue.</summary>
    void Acknowledge(string clientId, Guid durableId);

    /// <summary>
    /// Claims the session of <paramref name="clientId"/> for this node (see <see cref="SessionClaim"/>), recording its expiry
    /// interval and will: if this node dies, a survivor publishes the will and ends the session when they are due.
    /// </summary>
    ValueTask<SessionClaim> ClaimSessionAsync(string clientId, bool cleanStart, string? owner, uint expiryInterval, WillMessage? will, CancellationToken cancellationToken = default);

    /// <summary>
    /// The client's durable queue entries not in <paramref name="held"/>, oldest first. Call it once the resumed session's
    /// subscriptions are in place here: it first waits for durable appends in flight on every node.
    /// </summary>
    ValueTask<IReadOnlyList<MessageDelivery>> LoadDurableAsync(string clientId, Sessions.SessionHandover? held, CancellationToken cancellationToken = default);

    /// <summary>
    /// For a session already here whose full queue let durable deliveries go (they stay in Redis): the client's durable
    /// queue entries not in <paramref name="skip"/> (what it has in flight), oldest first, after the same wait as
    /// <see cref="LoadDurableAsync"/>.
    /// </summary>
    ValueTask<IReadOnlyList<MessageDelivery>> ReloadDurableAsync(string clientId, IReadOnlySet<Guid> skip, CancellationToken cancellationToken = default);

    /// <summary>Whether a newer claim elsewhere took the session after <paramref name="epoch"/> was handed out here.</summary>
    bool IsFenced(string clientId, long epoch);

    /// <summary>Records the session's subscriptions in its grain (what a node resuming it after this one died starts from).</summary>
    ValueTask SaveSubscriptionsAsync(string clientId, long epoch, IReadOnlyList<Subscription> subscriptions, CancellationToken cancellationToken = default);

    /// <summary>The session ended here: its grain, durable queue and durable subscriptions go.</summary>
    ValueTask EndSessionAsync(string clientId, long epoch, CancellationToken cancellationToken = default);

    /// <summary>Every active node of the fleet as it describes itself (this one included); unreachable ones are left out.</summary>
    Task<IReadOnlyList<NodeInfo>> DescribeFleetAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes this node the holder of an MLP device's session (its device grain) and lists it under the user (user grains).</summary>
    ValueTask<MlpDeviceClaim> ClaimMlpDeviceAsync(string deviceId, string userId, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>The MLP device went offline here at <paramref name="epoch"/>; false when a newer claim holds it.</summary>
    ValueTask<bool> ReleaseMlpDeviceAsync(string deviceId, string userId, long epoch, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>The node holding an MLP device's session, if any.</summary>
    ValueTask<MlpDeviceOwner> GetMlpOwnerAsync(string deviceId, CancellationToken cancellationToken = default);

    /// <summary>The devices of a user, fleet-wide.</summary>
    ValueTask<IReadOnlyList<string>> GetMlpUserDevicesAsync(string userId, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>Asks <paramref name="node"/> (a live peer) to hand an MLP device's session over; null when it had none or cannot be reached.</summary>
    ValueTask<byte[]?> HandOverMlpFromAsync(string node, string deviceId, long epoch, CancellationToken cancellationToken = default);

    /// <summary>Routes a push to the peer <paramref name="node"/>; null when it is not a live peer or the call failed.</summary>
    ValueTask<MlpPushReply?> PushMlpToAsync(string node, string deviceId, byte[] push, bool sequenced, CancellationToken cancellationToken = default);

    /// <summary>Tells the peer <paramref name="node"/> that pushes wait in Redis for a device it holds; false when it cannot be reached.</summary>
    ValueTask<bool> PullMlpAtAsync(string node, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>The dashboard samples of <paramref name="node"/> (this node or a live peer) after <paramref name="since"/>; null when it is neither or cannot be reached.</summary>
    Task<NodeStats?> GetNodeStatsAsync(string node, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Starts, cancels or reads the drain of <paramref name="node"/> (this node or a live peer); null when it is neither or cannot be reached.</summary>
    Task<NodeDrainStatus?> DrainNodeAsync(string node, NodeDrainCommand command, CancellationToken cancellationToken = default);
}
