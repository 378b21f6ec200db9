using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.SessionGrains.Sessions;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// What the fleet asks of the protocols on this node (the gateway implements it and attaches it
/// with <see cref="IFleet.Attach"/>): deliver what peers forward, hand a session over, describe itself.
/// </summary>
public interface IFleetLocalNode
{
    /// <summary>
    /// Delivers a batch of publishes a peer forwarded, in order, to this node's own subscribers (never forwarding them again);
    /// a protocol may start each writer the batch wakes once for the whole batch.
    /// </summary>
    ValueTask DeliverForwardedAsync(IReadOnlyList<ForwardedMessage> messages);

    /// <summary>
    /// The session of <paramref name="clientId"/> moved to another node at <paramref name="epoch"/>: close its
    /// connection here (5.0 DISCONNECT 0x8E), take the session out of this node and return it; null when there was none.
    /// </summary>
    ValueTask<SessionHandover?> HandOverSessionAsync(string clientId, long epoch);

    /// <summary>Publishes the will of a client whose node died (routed fleet-wide as any publish here).</summary>
    ValueTask PublishWillAsync(Protocol.Mqtt.MqttApplicationMessage will);

    /// <summary>This node as the admin API and peers see it.</summary>
    NodeInfo Describe(string nodeId);

    /// <summary>Every retained message held here, with the expiry each has left.</summary>
    ValueTask<IReadOnlyList<Protocol.Mqtt.MqttApplicationMessage>> ExportRetainedAsync();

    /// <summary>Stores a retained message a peer holds (a node catching up after it joined); routes nothing.</summary>
    ValueTask ImportRetainedAsync(Protocol.Mqtt.MqttApplicationMessage message);

    /// <summary>A peer routed a push for an MLP device here (see <see cref="INodeGrain.PushMlpAsync"/>).</summary>
    ValueTask<Mlp.MlpPushReply> PushMlpAsync(string deviceId, byte[] push, bool sequenced);

    /// <summary>A peer claimed an MLP device (see <see cref="INodeGrain.HandOverMlpAsync"/>).</summary>
    ValueTask<byte[]?> HandOverMlpAsync(string deviceId, long epoch);

    /// <summary>Pushes wait in Redis for an MLP device held here (see <see cref="INodeGrain.PullMlpAsync"/>).</summary>
    ValueTask PullMlpAsync(string deviceId);

    /// <summary>This node's dashboard samples after <paramref name="since"/> and totals (see <see cref="INodeGrain.GetStatsAsync"/>).</summary>
    NodeStats Stats(string nodeId, DateTimeOffset since);

    /// <summary>Starts, cancels or reads this node's drain (see <see cref="INodeGrain.DrainAsync"/>).</summary>
    NodeDrainStatus Drain(NodeDrainCommand command);
}
