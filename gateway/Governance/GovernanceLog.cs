using System.Net;

namespace AccessLayer.Gateway.Governance;

/// <summary>Connection governance log events (11xx). Event ids are stable: operators alert on them. Broker-side evictions keep their 10xx ids (1006 keep alive, 1007 handshake timeout, 1008 slow consumer).</summary>
internal static partial class GovernanceLog
{
    [LoggerMessage(1101, LogLevel.Information, "Connection from {RemoteEndPoint} on {Listener} refused at accept: {Reason}")]
    public static partial void RefusedAtAccept(ILogger logger, EndPoint? remoteEndPoint, string listener, string reason);

    [LoggerMessage(1102, LogLevel.Warning, "Client {ClientId} is flapping ({Count} connects within {Window}); banned for {BanDuration}")]
    public static partial void FlappingBanned(ILogger logger, string clientId, int count, TimeSpan window, TimeSpan banDuration);

    [LoggerMessage(1104, LogLevel.Warning, "Client {ClientId} exceeded its publish rate ({Rate}/s); disconnecting")]
    public static partial void PublishRateExceeded(ILogger logger, string clientId, int rate);

    [LoggerMessage(1105, LogLevel.Warning, "Client {ClientId} exceeded its publish byte rate ({Rate} B/s); disconnecting")]
    public static partial void ByteRateExceeded(ILogger logger, string clientId, long rate);

    [LoggerMessage(1106, LogLevel.Warning, "Memory {Used} bytes is past the high watermark {Watermark} bytes; refusing new connections")]
    public static partial void MemoryHigh(ILogger logger, long used, long watermark);

    [LoggerMessage(1107, LogLevel.Information, "Memory {Used} bytes is back under the low watermark {Watermark} bytes; accepting new connections")]
    public static partial void MemoryRecovered(ILogger logger, long used, long watermark);

    [LoggerMessage(1108, LogLevel.Warning, "Drain started ({Reason}): moving {Connections} connections at {Rate}/s, server reference {ServerReference}")]
    public static partial void DrainStarted(ILogger logger, string reason, int connections, int rate, string? serverReference);

    [LoggerMessage(1109, LogLevel.Information, "Drain finished: {Moved} connections moved in {Elapsed}")]
    public static partial void DrainFinished(ILogger logger, long moved, TimeSpan elapsed);

    [LoggerMessage(1110, LogLevel.Information, "Drain cancelled after {Moved} connections moved; accepting again")]
    public static partial void DrainCancelled(ILogger logger, long moved);

    [LoggerMessage(1111, LogLevel.Debug, "Client {ClientId} moved away by the drain")]
    public static partial void ClientMoved(ILogger logger, string clientId);

    [LoggerMessage(1112, LogLevel.Information, "Client {ClientId} kicked by an administrator")]
    public static partial void ClientKicked(ILogger logger, string clientId);

    [LoggerMessage(1113, LogLevel.Information, "TLS client certificate {Subject} rejected: {Errors}")]
    public static partial void ClientCertificateRejected(ILogger logger, string subject, string errors);

    [LoggerMessage(1114, LogLevel.Debug, "Client {ClientId} not authorized to {Action} {Topic}")]
    public static partial void AclDenied(ILogger logger, string clientId, string action, string topic);

    [LoggerMessage(1115, LogLevel.Warning, "Could not set socket options on {Listener}: {Message}")]
    public static partial void SocketOptionsFailed(ILogger logger, string listener, string message);

    [LoggerMessage(1116, LogLevel.Information, "Client {ClientId} refused at CONNECT: flapping ban for {Remaining} more")]
    public static partial void FlappingRefused(ILogger logger, string clientId, TimeSpan remaining);

    [LoggerMessage(1130, LogLevel.Information, "Reloaded {What} ({Trigger})")]
    public static partial void SecurityReloaded(ILogger logger, string what, string trigger);

    [LoggerMessage(1131, LogLevel.Error, "Reloading {What} ({Trigger}) failed, the previous one stays in force: {Error}")]
    public static partial void SecurityReloadFailed(ILogger logger, string what, string trigger, string error);

    [LoggerMessage(1132, LogLevel.Information, "ACL of {Rules} rules applied to {Clients} connected clients")]
    public static partial void AclApplied(ILogger logger, int rules, int clients);

    [LoggerMessage(1117, LogLevel.Warning, "Drain: the fleet's live peers could not be read ({Reason}); clients get the configured server reference, if any")]
    public static partial void DrainTargetsUnknown(ILogger logger, string reason);
}
