namespace AccessLayer.Gateway.Traffic;

/// <summary>Traffic table and routing log events. Event ids (3001-3099) are stable: operators alert on them.</summary>
internal static partial class TrafficLog
{
    [LoggerMessage(3001, LogLevel.Information, "Traffic table version {Version} applied ({Source}, site {Site}): {ShardsMoved} shards and {OverridesMoved} override uids moved, zones added [{ZonesAdded}], removed [{ZonesRemoved}]")]
    public static partial void Applied(ILogger logger, long version, string source, string site, int shardsMoved, int overridesMoved, string zonesAdded, string zonesRemoved);

    [LoggerMessage(3002, LogLevel.Warning, "Traffic table refused ({Source}), version {Version} stays: {Reason}")]
    public static partial void Refused(ILogger logger, string source, long version, string reason);

    [LoggerMessage(3003, LogLevel.Warning, "Traffic table rolled back from version {From} to {To}")]
    public static partial void RolledBack(ILogger logger, long from, long to);

    [LoggerMessage(3004, LogLevel.Warning, "Forward of {Service}/{Operation} to site {Site} via {Gateway} failed: {Reason}")]
    public static partial void ForwardFailed(ILogger logger, string service, string operation, string site, string gateway, string reason);

    [LoggerMessage(3006, LogLevel.Warning, "Backend endpoint {Endpoint} ejected for {EjectionTime} after {Failures} failed calls in a row")]
    public static partial void EndpointEjected(ILogger logger, string endpoint, int failures, TimeSpan ejectionTime);

    [LoggerMessage(3007, LogLevel.Warning, "Backend endpoint {Endpoint} failed {Failures} health checks in a row: no calls until one passes")]
    public static partial void EndpointUnhealthy(ILogger logger, string endpoint, int failures);

    [LoggerMessage(3008, LogLevel.Information, "Backend endpoint {Endpoint} passed its health check again")]
    public static partial void EndpointHealthy(ILogger logger, string endpoint);

    [LoggerMessage(3005, LogLevel.Warning, "Forwarded request for {Service} from {From} refused: {Reason}")]
    public static partial void ForwardRefused(ILogger logger, string service, string? from, string reason);

    [LoggerMessage(3009, LogLevel.Warning, "Uplink batch {BatchId} of rule {Rule} ({Count} messages) refused by {Endpoint} with {Status}: not sent again")]
    public static partial void UplinkRejected(ILogger logger, string batchId, string rule, int count, string endpoint, int status);

    [LoggerMessage(3010, LogLevel.Warning, "Uplink batch {BatchId} of rule {Rule} ({Count} messages) failed at {Endpoint} ({Reason}): sent again in {Delay}")]
    public static partial void UplinkFailed(ILogger logger, string batchId, string rule, int count, string endpoint, string reason, TimeSpan delay);

    [LoggerMessage(3011, LogLevel.Debug, "Uplink PUBLISH of {ClientId} on {Topic} refused by rule {Rule}: {Reason}")]
    public static partial void UplinkRefused(ILogger logger, string clientId, string topic, string rule, string reason);

    [LoggerMessage(3012, LogLevel.Information, "Site link to {Gateway} opened")]
    public static partial void LinkOpened(ILogger logger, string gateway);

    [LoggerMessage(3013, LogLevel.Warning, "Site link {Link} closed: {Reason}")]
    public static partial void LinkClosed(ILogger logger, string link, string reason);
}
