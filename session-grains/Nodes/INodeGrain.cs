using AccessLayer.SessionGrains.Routes;

namespace AccessLayer.SessionGrains.Nodes;

/// <summary>
/// One node's endpoint for its peers, keyed by the node id (its silo address) and placed on that
/// node only (<see cref="NodePlacementAttribute"/>): route updates, forwarded publishes, session
/// handovers and what the node says about itself. Reentrant: batches from different peers run at
/// once; each peer sends one call at a time, so a peer's calls arrive and run in order.
/// </summary>
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>A peer's route rows changed (or, as a snapshot, are these).</summary>
    Task ApplyRoutesAsync(RouteUpdate update);

    /// <summary>Publishes forwarded by a peer (a batch written with <see cref="Forwarding.FleetCodec.WriteForwarded"/>).</summary>
    Task DeliverAsync(byte[] batch);

    /// <summary>
    /// Another node took the session of <paramref name="clientId"/> at <paramref name="epoch"/>: close
    /// the client here (5.0 DISCONNECT 0x8E), forget the session, and hand it over
    /// (<see cref="Forwarding.FleetCodec.EncodeHandover"/>), or null when this node had none.
    /// </summary>
    Task<byte[]?> HandOverSessionAsync(string clientId, long epoch);

    /// <summary>What the node says about itself: endpoints, connections, draining.</summary>
    Task<NodeInfo> GetInfoAsync();

    /// <summary>Completes once every durable append this node started before the call is committed (a node resuming a session reads Redis after this).</summary>
    Task FlushDurableAsync();

    /// <summary>Every retained message this node holds (a forward batch), for a node that just joined.</summary>
    Task<byte[]> GetRetainedAsync();

    /// <summary>A push (encoded by the gateway) for an MLP device whose session this node holds; <see cref="Mlp.MlpPushReply.Held"/> false when it does not.</summary>
    Task<Mlp.MlpPushReply> PushMlpAsync(string deviceId, byte[] push, bool sequenced);

    /// <summary>
    /// Another node claimed the MLP device at <paramref name="epoch"/>: close its connection here (GOAWAY
    /// SESSION_TAKEN_OVER), take its session out of this node and hand it over (encoded), or null when none is here.
    /// </summary>
    Task<byte[]?> HandOverMlpAsync(string deviceId, long epoch);

    /// <summary>Pushes were queued in Redis for an MLP device this node holds: take them into its session.</summary>
    Task PullMlpAsync(string deviceId);

    /// <summary>The node's dashboard samples taken after <paramref name="since"/> and its totals (see <see cref="NodeStats"/>).</summary>
    Task<NodeStats> GetStatsAsync(DateTimeOffset since);

    /// <summary>Starts, cancels or reads the node's own drain (an operator on another node's dashboard).</summary>
    Task<NodeDrainStatus> DrainAsync(NodeDrainCommand command);
}
