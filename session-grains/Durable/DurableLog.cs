using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains.Durable;

/// <summary>Durable queue log events. Event ids are stable (61xx): operators alert on them.</summary>
internal static partial class DurableLog
{
    [LoggerMessage(6101, LogLevel.Warning, "Durable queue commit of {Operations} operations timed out after {Timeout}")]
    public static partial void CommitTimedOut(ILogger logger, int operations, TimeSpan timeout);

    [LoggerMessage(6102, LogLevel.Warning, "Durable queue commit of {Operations} operations failed in Redis")]
    public static partial void CommitFailed(ILogger logger, Exception exception, int operations);

    [LoggerMessage(6103, LogLevel.Debug, "Durable queue of {ClientId} full: dropped its {Dropped} oldest entries")]
    public static partial void EntriesDropped(ILogger logger, string clientId, long dropped);

    [LoggerMessage(6104, LogLevel.Error, "Durable queue committer failed unexpectedly; the batch's callers were failed and the loop continues")]
    public static partial void CommitterFailed(ILogger logger, Exception exception);
}
