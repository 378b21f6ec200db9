namespace AccessLayer.Gateway.Hosting;

/// <summary>Log events of the gateway's own loops (maintenance, drain, writers, epoll). Event ids are stable: operators alert on them.</summary>
internal static partial class LoopLog
{
    [LoggerMessage(1150, LogLevel.Error, "Background loop {Loop}: a pass failed; the loop goes on at the next tick")]
    public static partial void PassFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(1151, LogLevel.Error, "Drain: participant {Protocol} failed; the drain goes on without it")]
    public static partial void DrainParticipantFailed(ILogger logger, Exception exception, string protocol);

    [LoggerMessage(1152, LogLevel.Error, "Connection {ConnectionId}: its writer failed; the connection is closed")]
    public static partial void WriterFailed(ILogger logger, Exception exception, string connectionId);
}
