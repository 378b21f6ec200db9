using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Transport.Tls;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// The epoll engine for one TCP listener: a dedicated accept thread (blocking accept4, so EMFILE and
/// friends can back off without stalling any connection), <see cref="EpollLoop"/>s that connections
/// are spread over round-robin, and the connection pipeline run for each accepted fd.
/// </summary>
internal sealed class EpollEngine : IAsyncDisposable
{
    private readonly EpollLoop[] _loops;
    private readonly ConnectionDelegate _pipeline;
    private readonly Action<ConnectionContext, Exception> _onFailed;
    private readonly ILogger _logger;
    private readonly GatewayMetrics? _metrics;
    private readonly Func<int, TlsSession>? _tls;
    private readonly TaskCompletionSource _allEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _listenSocket;
    private Thread? _acceptThread;
    private int _nextLoop;
    private int _live;
    private volatile bool _stopping;

    /// <param name="onFailed">Told when a connection's pipeline ends with an exception (the engine only closes the connection).</param>
    /// <param name="wait">epoll_wait for every loop (tests make it fail); null: the real one.</param>
    /// <param name="time">Bounds the lingering close; null: the system clock.</param>
    /// <param name="tls">Makes the TLS session of each accepted fd (a TLS listener); null: plain TCP.</param>
    public EpollEngine(int loops, bool inlineContinuations, ConnectionDelegate pipeline, Action<ConnectionContext, Exception> onFailed, ILogger logger, GatewayMetrics? metrics = null, EpollLoop.WaitFunction? wait = null, TimeProvider? time = null, Func<int, TlsSession>? tls = null)
    {
        _tls = tls;
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The epoll transport runs on Linux only.");
        }

        InlineContinuations = inlineContinuations;
        _pipeline = pipeline;
        _onFailed = onFailed;
        _logger = logger;
        _metrics = metrics;
        Time = time ?? TimeProvider.System;
        _loops = new EpollLoop[loops];
        for (var i = 0; i < loops; i++)
        {
            _loops[i] = new EpollLoop(this, i, wait);
        }
    }

    /// <summary>Whether readiness wakes the waiting reader/writer on the loop thread itself instead of the thread pool.</summary>
    public bool InlineContinuations { get; }

    public TimeProvider Time { get; }

    /// <summary>The address actually bound (port 0 asks the kernel for one).</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>Connections whose pipeline is still running.</summary>
    public int LiveConnections => Volatile.Read(ref _live);

    internal ConnectionDelegate Pipeline => _pipeline;

    /// <summary>The connections registered now, over every loop.</summary>
    internal List<EpollConnection> Snapshot()
    {
        var connections = new List<EpollConnection>();
        foreach (var loop in _loops)
        {
            foreach (var handler in loop.Snapshot())
            {
                connections.Add((EpollConnection)handler);
            }
        }

        return connections;
    }

    /// <summary>Binds and starts accepting.</summary>
    public void Start(IPEndPoint endPoint, int backlog = 512)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _listenSocket = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var fd = (int)socket.Handle;
        _acceptThread = new Thread(() => AcceptLoop(fd)) { IsBackground = true, Name = "epoll-accept" };
        _acceptThread.UnsafeStart();
    }

    /// <summary>Stops accepting, aborts every live connection, waits (bounded by the token) for their pipelines, stops the loops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        if (_listenSocket is { } listen)
        {
            // Linux wakes a blocked accept() with EINVAL when the listening socket is shut down.
            LinuxNative.Shutdown((int)listen.Handle, 0);
            _acceptThread?.Join();
            listen.Dispose();
        }

        var abort = new ConnectionAbortedException("The server is shutting down.");
        foreach (var loop in _loops)
        {
            foreach (var handler in loop.Snapshot())
            {
                ((EpollConnection)handler).Abort(abort);
            }
        }

        if (Interlocked.Add(ref _live, 0) == 0)
        {
            _allEnded.TrySetResult();
        }

        try
        {
            await _allEnded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            EpollLog.ShutdownTimedOut(_logger, LiveConnections);
        }

        foreach (var loop in _loops)
        {
            loop.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    internal void OnPipelineFailed(EpollConnection connection, Exception exception)
    {
        try
        {
            _onFailed(connection, exception);
        }
        catch (Exception ex)
        {
            EpollLog.ConnectionFailed(_logger, ex, connection.ConnectionId);
        }
    }

    /// <summary>Loop thread: a readiness handler threw; log it and abort that connection.</summary>
    internal void OnHandlerFailed(IEpollHandler handler, Exception exception)
    {
        try
        {
            if (handler is EpollConnection connection)
            {
                EpollLog.ConnectionFailed(_logger, exception, connection.ConnectionId);
                connection.Abort(new ConnectionAbortedException("The connection failed on its I/O loop.", exception));
            }
        }
        catch
        {
            // Nothing more to do without risking the loop.
        }
    }

    /// <summary>A loop's epoll_wait failed for good (its thread has ended): log, count, close the connections it served.</summary>
    internal void OnLoopFailed(EpollLoop loop, int errno)
    {
        var connections = loop.Snapshot();
        EpollLog.LoopFailed(_logger, errno, connections.Count);
        _metrics?.LoopFailed("epoll");
        var abort = new ConnectionAbortedException($"The connection's epoll loop failed (errno {errno}).");
        foreach (var handler in connections)
        {
            ((EpollConnection)handler).Abort(abort);
        }
    }

    internal void OnConnectionEnded()
    {
        if (Interlocked.Decrement(ref _live) == 0 && _stopping)
        {
            _allEnded.TrySetResult();
        }
    }

    /// <summary>Round-robin over the loops, skipping any whose wait failed.</summary>
    private EpollLoop? NextLoop()
    {
        for (var i = 0; i < _loops.Length; i++)
        {
            var loop = _loops[(int)((uint)Interlocked.Increment(ref _nextLoop) % (uint)_loops.Length)];
            if (!loop.Failed)
            {
                return loop;
            }
        }

        return null;
    }

    private unsafe void AcceptLoop(int listenFd)
    {
        while (!_stopping)
        {
            var fd = LinuxNative.Accept4(listenFd, null, null, LinuxNative.SockNonblock | LinuxNative.SockCloexec);
            if (fd < 0)
            {
                var errno = LinuxNative.Errno;
                if (_stopping)
                {
                    return;
                }

                if (errno is 24 or 23 or 105 or 12)
                {
                    // EMFILE/ENFILE/ENOBUFS/ENOMEM: out of descriptors or memory; back off rather than spin.
                    EpollLog.AcceptFailed(_logger, errno);
                    Thread.Sleep(50);
                }

                // Anything else (ECONNABORTED, EINTR, EPROTO...) concerns one peer: keep accepting.
                continue;
            }

            LinuxNative.SetOption(fd, LinuxNative.IpProtoTcp, LinuxNative.TcpNoDelay, 1);
            if (NextLoop() is not { } loop)
            {
                // Every loop has failed (logged when each did): nothing can serve this connection.
                LinuxNative.Close(fd);
                continue;
            }

            TlsSession? session = null;
            if (_tls is not null)
            {
                try
                {
                    session = _tls(fd);
                }
                catch (Exception ex) when (ex is TlsException or InvalidOperationException)
                {
                    EpollLog.TlsSessionFailed(_logger, ex.Message);
                    LinuxNative.Close(fd);
                    continue;
                }
            }

            var connection = new EpollConnection(loop, fd, session);
            var failed = loop.Register(fd, connection);
            if (failed != 0)
            {
                EpollLog.AcceptFailed(_logger, failed);
                session?.Dispose();
                LinuxNative.Close(fd);
                continue;
            }

            Interlocked.Increment(ref _live);
            if (InlineContinuations)
            {
                // Mosquitto-like: admission and CONNECT parsing run on the accept thread, no hop.
                ((IThreadPoolWorkItem)connection).Execute();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(connection, preferLocal: false);
            }
        }
    }
}
