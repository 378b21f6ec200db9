using System.Net;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp;

/// <summary>MLP log events. Event ids (2000-2999) are stable: operators alert on them.</summary>
internal static partial class MlpLog
{
    [LoggerMessage(2001, LogLevel.Debug, "Device {DeviceId} (user {UserId}) connected from {RemoteEndPoint}: session {SessionId}, resumed {Resumed}, via {Transport}")]
    public static partial void Connected(ILogger logger, string deviceId, string userId, EndPoint? remoteEndPoint, string sessionId, bool resumed, string transport);

    [LoggerMessage(2002, LogLevel.Debug, "Device {DeviceId} disconnected: {Reason}")]
    public static partial void Disconnected(ILogger logger, string deviceId, string reason);

    [LoggerMessage(2003, LogLevel.Information, "HELLO from {RemoteEndPoint} refused with {Code}: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, EndPoint? remoteEndPoint, MlpErrorCode code, string reason);

    [LoggerMessage(2004, LogLevel.Information, "Connection {ConnectionId} ({DeviceId}) closed for a protocol error {Code}: {Message}")]
    public static partial void ProtocolError(ILogger logger, string connectionId, string? deviceId, MlpErrorCode code, string message);

    [LoggerMessage(2005, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint} sent no HELLO within {Timeout}s")]
    public static partial void HandshakeTimeout(ILogger logger, string connectionId, EndPoint? remoteEndPoint, int timeout);

    [LoggerMessage(2006, LogLevel.Information, "Device {DeviceId} sent nothing for {Timeout}s (missed heartbeats), closing")]
    public static partial void HeartbeatTimeout(ILogger logger, string deviceId, int timeout);

    [LoggerMessage(2007, LogLevel.Information, "Device {DeviceId} connected again elsewhere; closing the older connection")]
    public static partial void SessionTakenOver(ILogger logger, string deviceId);

    [LoggerMessage(2008, LogLevel.Warning, "Device {DeviceId} is a slow consumer: {Queued} frames behind, closing")]
    public static partial void SlowConsumer(ILogger logger, string deviceId, int queued);

    [LoggerMessage(2009, LogLevel.Warning, "Connection {ConnectionId} failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(2010, LogLevel.Information, "Backend {Service} failed for {Operation}: {Reason}")]
    public static partial void BackendFailed(ILogger logger, string service, string operation, string reason);

    [LoggerMessage(2011, LogLevel.Information, "Loaded zstd dictionary {DictionaryId} ({Size} bytes) from {Path}")]
    public static partial void DictionaryLoaded(ILogger logger, uint dictionaryId, int size, string path);

    [LoggerMessage(2012, LogLevel.Warning, "Skipped dictionary file {Path}: {Reason}")]
    public static partial void DictionarySkipped(ILogger logger, string path, string reason);

    [LoggerMessage(2013, LogLevel.Information, "Dictionary {DictionaryId} is now recommended; offered to {Connections} connections")]
    public static partial void DictionaryOffered(ILogger logger, uint dictionaryId, int connections);

    [LoggerMessage(2014, LogLevel.Debug, "Push for device {DeviceId} dropped: {Reason}")]
    public static partial void PushDropped(ILogger logger, string deviceId, string reason);

    [LoggerMessage(2015, LogLevel.Warning, "Backend {Service} threw while handling {Operation}")]
    public static partial void ServiceFailed(ILogger logger, Exception exception, string service, string operation);

    [LoggerMessage(2016, LogLevel.Warning, "This kernel has no per-socket TCP loss-recovery options (Mlp:TcpRtoMin {RtoMin}): MLP sockets keep the kernel's defaults ({Reason})")]
    public static partial void LossRecoveryUnsupported(ILogger logger, TimeSpan rtoMin, string reason);

    [LoggerMessage(2017, LogLevel.Warning, "Setting TCP loss-recovery options (Mlp:TcpRtoMin {RtoMin}) on an MLP socket failed; logged once: {Reason}")]
    public static partial void LossRecoveryFailed(ILogger logger, TimeSpan rtoMin, string reason);

    [LoggerMessage(2018, LogLevel.Warning, "Call coalescing bound {Bound} hit ({Calls} calls, {Bytes} bytes kept): copies of new calls reach the backend each; logged at most once a minute")]
    public static partial void CoalescingBoundHit(ILogger logger, string bound, int calls, long bytes);

    [LoggerMessage(2030, LogLevel.Debug, "Device {DeviceId} sent elsewhere by the drain")]
    public static partial void ConnectionDrained(ILogger logger, string deviceId);

    [LoggerMessage(2040, LogLevel.Warning, "Fleet: MLP {What} for device {DeviceId} failed: {Reason}")]
    public static partial void FleetCallFailed(ILogger logger, string deviceId, string what, string reason);

    [LoggerMessage(2041, LogLevel.Information, "Fleet: device {DeviceId} connected to another node (epoch {Epoch}); its session leaves this node")]
    public static partial void FleetTakenOver(ILogger logger, string deviceId, long epoch);

    [LoggerMessage(2042, LogLevel.Information, "Fleet: device {DeviceId} lost the race for its session (epoch {Epoch}) to a newer connection elsewhere")]
    public static partial void FleetClaimLost(ILogger logger, string deviceId, long epoch);
}
