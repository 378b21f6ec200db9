using System.Net;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>MQTT broker log events. Event ids are stable: operators alert on them.</summary>
internal static partial class MqttLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Client {ClientId} connected from {RemoteEndPoint} (MQTT {Version}, clean start {CleanStart}, keep alive {KeepAlive}s)")]
    public static partial void ClientConnected(ILogger logger, string clientId, EndPoint? remoteEndPoint, MqttProtocolVersion version, bool cleanStart, int keepAlive);

    [LoggerMessage(1002, LogLevel.Debug, "Client {ClientId} disconnected: {Reason}")]
    public static partial void ClientDisconnected(ILogger logger, string clientId, string reason);

    [LoggerMessage(1003, LogLevel.Information, "Connection from {RemoteEndPoint} refused at CONNECT: {Reason}")]
    public static partial void ConnectRefused(ILogger logger, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(1004, LogLevel.Information, "Connection {ConnectionId} ({ClientId}) closed for a protocol error {ReasonCode}: {Message}")]
    public static partial void ProtocolError(ILogger logger, string connectionId, string? clientId, MqttReasonCode reasonCode, string message);

    [LoggerMessage(1005, LogLevel.Information, "Client {ClientId} taken over by a new connection")]
    public static partial void SessionTakenOver(ILogger logger, string clientId);

    [LoggerMessage(1006, LogLevel.Information, "Client {ClientId} missed its keep alive ({KeepAlive}s x 1.5)")]
    public static partial void KeepAliveTimeout(ILogger logger, string clientId, int keepAlive);

    [LoggerMessage(1007, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint} sent no CONNECT within {Timeout}s")]
    public static partial void ConnectTimeout(ILogger logger, string connectionId, EndPoint? remoteEndPoint, int timeout);

    [LoggerMessage(1008, LogLevel.Warning, "Client {ClientId} is a slow consumer: {Queued} packets behind, disconnecting")]
    public static partial void SlowConsumer(ILogger logger, string clientId, int queued);

    [LoggerMessage(1009, LogLevel.Debug, "Will of {ClientId} published to {Topic}")]
    public static partial void WillPublished(ILogger logger, string clientId, string topic);

    [LoggerMessage(1010, LogLevel.Warning, "Connection {ConnectionId} failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1011, LogLevel.Information, "Session of {ClientId} expired")]
    public static partial void SessionExpired(ILogger logger, string clientId);

    [LoggerMessage(1012, LogLevel.Information, "Client {ClientId} did not drain within the publisher back-pressure wait ({WaitMs} ms): publishers do not wait for it for {WaiverMs} ms or until it drains")]
    public static partial void BackPressureWaived(ILogger logger, string clientId, double waitMs, double waiverMs);

    [LoggerMessage(1020, LogLevel.Warning, "CONNECT of {ClientId} by {Identity} refused: its session belongs to another user")]
    public static partial void SessionOwnedByAnother(ILogger logger, string clientId, string? identity);

    [LoggerMessage(1021, LogLevel.Warning, "Fleet: {Operation} for {ClientId} failed: {Reason}")]
    public static partial void FleetCallFailed(ILogger logger, string clientId, string operation, string reason);
}
