using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains;

internal static partial class FleetLog
{
    [LoggerMessage(7001, LogLevel.Information, "Fleet: node {NodeId} joined cluster {ClusterId}")]
    public static partial void Joined(ILogger logger, string nodeId, string clusterId);

    [LoggerMessage(7002, LogLevel.Information, "Fleet: peer {Peer} is active")]
    public static partial void PeerActive(ILogger logger, string peer);

    [LoggerMessage(7003, LogLevel.Warning, "Fleet: peer {Peer} left ({Status}); its routes are dropped")]
    public static partial void PeerGone(ILogger logger, string peer, string status);

    [LoggerMessage(7004, LogLevel.Warning, "Fleet: route update to {Peer} failed ({Reason}); a snapshot follows")]
    public static partial void RouteSendFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(7005, LogLevel.Warning, "Fleet: forward of {Count} messages to {Peer} failed ({Reason})")]
    public static partial void ForwardFailed(ILogger logger, string peer, int count, string reason);

    [LoggerMessage(7006, LogLevel.Information, "Fleet: session {ClientId} taken from {PreviousNode} at epoch {Epoch} ({How})")]
    public static partial void SessionClaimed(ILogger logger, string clientId, string previousNode, long epoch, string how);

    [LoggerMessage(7007, LogLevel.Warning, "Fleet: route replication to {Peers} peer(s) did not finish within {Timeout}")]
    public static partial void ReplicationSlow(ILogger logger, int peers, TimeSpan timeout);

    [LoggerMessage(7008, LogLevel.Error, "Fleet: a forwarded batch from a peer did not decode; dropped")]
    public static partial void BadBatch(ILogger logger, Exception exception);

    [LoggerMessage(7009, LogLevel.Warning, "Fleet: durable queue operation for {ClientId} failed ({Reason})")]
    public static partial void DurableFailed(ILogger logger, string clientId, string reason);

    [LoggerMessage(7010, LogLevel.Error, "Fleet: membership watch failed; retrying")]
    public static partial void MembershipWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(7011, LogLevel.Information, "Fleet: retained messages copied from {Peer}")]
    public static partial void RetainedCopied(ILogger logger, string peer);

    [LoggerMessage(7020, LogLevel.Warning, "Fleet: MLP {What} of device {DeviceId} at {Node} failed ({Reason})")]
    public static partial void MlpCallFailed(ILogger logger, string deviceId, string node, string what, string reason);

    [LoggerMessage(7012, LogLevel.Warning, "Fleet: handover of {ClientId} from {PreviousNode} failed ({Reason}); resuming from the grain and Redis")]
    public static partial void HandoverFailed(ILogger logger, string clientId, string previousNode, string reason);

    [LoggerMessage(7013, LogLevel.Information, "Fleet: {Sessions} session(s) of departed node {Node} scheduled to expire (wills after their delay)")]
    public static partial void OrphansReaped(ILogger logger, string node, int sessions);

    [LoggerMessage(7014, LogLevel.Information, "Fleet: session {ClientId} of a departed node expired")]
    public static partial void OrphanEnded(ILogger logger, string clientId);

    [LoggerMessage(7015, LogLevel.Information, "Fleet: will of {ClientId} (its node departed) published to {Topic}")]
    public static partial void OrphanWillPublished(ILogger logger, string clientId, string topic);

    [LoggerMessage(7016, LogLevel.Warning, "Fleet: departed-node session work for {What} failed ({Reason})")]
    public static partial void OrphansFailed(ILogger logger, string what, string reason);

    [LoggerMessage(7021, LogLevel.Information, "Fleet: forward link to {Peer} up ({Endpoint})")]
    public static partial void LinkUp(ILogger logger, string peer, string endpoint);

    [LoggerMessage(7022, LogLevel.Warning, "Fleet: forward link to {Peer} at {Endpoint} could not be opened ({Reason}); forwarding through Orleans calls meanwhile")]
    public static partial void LinkFailed(ILogger logger, string peer, string endpoint, string reason);

    [LoggerMessage(7023, LogLevel.Warning, "Fleet: forward link to {Peer} lost ({Reason})")]
    public static partial void LinkLost(ILogger logger, string peer, string reason);

    [LoggerMessage(7024, LogLevel.Warning, "Fleet: forward link from {Remote} closed: {Reason}")]
    public static partial void LinkRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(7025, LogLevel.Warning, "Fleet: a batch from a forward link could not be delivered ({Reason})")]
    public static partial void LinkBatchFailed(ILogger logger, string reason);
}
