using System.Net.Sockets;
using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Governance;

/// <summary>What the kernel will do about a silent peer, as set on (or read back from) one socket.</summary>
internal readonly record struct SocketTuningState(bool KeepAlive, int KeepAliveTimeSeconds, int KeepAliveIntervalSeconds, int KeepAliveRetryCount, int UserTimeoutMilliseconds);

/// <summary>
/// Zombie-socket defence on accepted sockets: TCP keepalive finds a peer that vanished while
/// idle, and TCP_USER_TIMEOUT (Linux) kills a socket whose sent data stays unacknowledged, so
/// a dead peer cannot pin its send buffer until the keep alive of the protocol notices.
/// </summary>
internal static class SocketTuning
{
    // Linux <netinet/tcp.h>: TCP_USER_TIMEOUT at level IPPROTO_TCP.
    private const int IpProtoTcp = 6;
    private const int TcpUserTimeout = 18;
    private const int SolSocket = 1;
    private const int SoKeepAlive = 9;
    private const int SoSndBuf = 7;
    private const int TcpKeepIdle = 4;
    private const int TcpKeepIntvl = 5;
    private const int TcpKeepCnt = 6;

    public static void Apply(Socket socket, LimitsOptions options)
    {
        if (options.TcpKeepAlive)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)options.TcpKeepAliveTime.TotalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)options.TcpKeepAliveInterval.TotalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.TcpKeepAliveRetryCount);
        }

        if (options.SocketSendBufferBytes > 0)
        {
            socket.SendBufferSize = options.SocketSendBufferBytes;
        }

        if (OperatingSystem.IsLinux() && options.TcpUserTimeout > TimeSpan.Zero)
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            BitConverter.TryWriteBytes(value, (int)options.TcpUserTimeout.TotalMilliseconds);
            socket.SetRawSocketOption(IpProtoTcp, TcpUserTimeout, value);
        }
    }

    /// <summary>The same tuning through setsockopt on a bare fd (the epoll transport has no Socket object).</summary>
    public static void Apply(IRawSocketOptionsFeature socket, LimitsOptions options)
    {
        if (options.TcpKeepAlive)
        {
            socket.SetOption(SolSocket, SoKeepAlive, 1);
            socket.SetOption(IpProtoTcp, TcpKeepIdle, (int)options.TcpKeepAliveTime.TotalSeconds);
            socket.SetOption(IpProtoTcp, TcpKeepIntvl, (int)options.TcpKeepAliveInterval.TotalSeconds);
            socket.SetOption(IpProtoTcp, TcpKeepCnt, options.TcpKeepAliveRetryCount);
        }

        if (options.SocketSendBufferBytes > 0)
        {
            socket.SetOption(SolSocket, SoSndBuf, options.SocketSendBufferBytes);
        }

        if (options.TcpUserTimeout > TimeSpan.Zero)
        {
            socket.SetOption(IpProtoTcp, TcpUserTimeout, (int)options.TcpUserTimeout.TotalMilliseconds);
        }
    }

    public static SocketTuningState Read(Socket socket)
    {
        var keepAlive = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0;
        var time = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!;
        var interval = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!;
        var count = (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!;
        var userTimeout = 0;
        if (OperatingSystem.IsLinux())
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            if (socket.GetRawSocketOption(IpProtoTcp, TcpUserTimeout, value) == sizeof(int))
            {
                userTimeout = BitConverter.ToInt32(value);
            }
        }

        return new SocketTuningState(keepAlive, time, interval, count, userTimeout);
    }
}
