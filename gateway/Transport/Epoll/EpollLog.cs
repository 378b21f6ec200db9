namespace AccessLayer.Gateway.Transport.Epoll;

internal static partial class EpollLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Warning, Message = "epoll transport: accept failed with errno {Errno}; backing off")]
    public static partial void AcceptFailed(ILogger logger, int errno);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Error, Message = "epoll transport: connection {ConnectionId} ended with an unhandled exception")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "epoll transport: shutdown stopped waiting with {Live} connections still running")]
    public static partial void ShutdownTimedOut(ILogger logger, int live);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "epoll transport: MQTT listener on {EndPoint} with {Loops} loops (inline continuations: {Inline})")]
    public static partial void Listening(ILogger logger, System.Net.EndPoint endPoint, int loops, bool inline);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Critical, Message = "epoll transport: a loop's epoll_wait failed with errno {Errno}; its {Connections} connections are closed and new ones go to the other loops")]
    public static partial void LoopFailed(ILogger logger, int errno, int connections);
}
