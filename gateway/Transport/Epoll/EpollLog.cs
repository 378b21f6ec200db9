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

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "epoll transport: no TLS session for an accepted connection ({Reason}); it is closed")]
    public static partial void TlsSessionFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "epoll transport: {Listener} TLS listener on {EndPoint} with {Loops} loops (OpenSSL)")]
    public static partial void ListeningTls(ILogger logger, string listener, System.Net.EndPoint endPoint, int loops);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Error, Message = "epoll transport: the reloaded TLS certificates do not load into OpenSSL ({Reason}); new TLS connections keep the previous ones")]
    public static partial void TlsContextFailed(ILogger logger, string reason);
}
