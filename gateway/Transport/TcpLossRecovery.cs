using System.Net.Sockets;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// Per-socket loss recovery (Linux): a lower floor under TCP's retransmission timeout (<c>TCP_RTO_MIN_US</c>, Linux 6.15+)
/// and linear instead of exponential backoff while a stream is thin (<c>TCP_THIN_LINEAR_TIMEOUTS</c>). On a lossy high-RTT
/// path a lost segment then waits about SRTT + 4 × RTTVAR instead of SRTT + 200 ms (docs/benchmarks-weak-network.md).
/// Throws <see cref="SocketException"/> as setsockopt fails; <see cref="SocketError.ProtocolOption"/> means the kernel lacks the option.
/// </summary>
internal static class TcpLossRecovery
{
    private const int IpProtoTcp = 6;
    private const int TcpThinLinearTimeouts = 16;
    private const int TcpRtoMinUs = 45;

    /// <summary>The kernel's bounds for <c>TCP_RTO_MIN_US</c> (one jiffy at HZ 250 up to its own 200 ms default).</summary>
    public static readonly TimeSpan MinRtoMin = TimeSpan.FromMilliseconds(5);

    public static readonly TimeSpan MaxRtoMin = TimeSpan.FromMilliseconds(200);

    public static void Apply(Socket socket, TimeSpan rtoMin, bool thinLinearTimeouts)
    {
        if (!OperatingSystem.IsLinux())
            return;
        Span<byte> value = stackalloc byte[sizeof(int)];
        if (thinLinearTimeouts)
        {
            BitConverter.TryWriteBytes(value, 1);
            socket.SetRawSocketOption(IpProtoTcp, TcpThinLinearTimeouts, value);
        }

        if (rtoMin > TimeSpan.Zero)
        {
            BitConverter.TryWriteBytes(value, Microseconds(rtoMin));
            socket.SetRawSocketOption(IpProtoTcp, TcpRtoMinUs, value);
        }
    }

    /// <summary>The same on a bare fd (the epoll transport).</summary>
    public static void Apply(IRawSocketOptionsFeature socket, TimeSpan rtoMin, bool thinLinearTimeouts)
    {
        if (thinLinearTimeouts)
            socket.SetOption(IpProtoTcp, TcpThinLinearTimeouts, 1);
        if (rtoMin > TimeSpan.Zero)
            socket.SetOption(IpProtoTcp, TcpRtoMinUs, Microseconds(rtoMin));
    }

    private static int Microseconds(TimeSpan value) => (int)Math.Clamp(value.Ticks / TimeSpan.TicksPerMicrosecond, MinRtoMin.Ticks / TimeSpan.TicksPerMicrosecond, MaxRtoMin.Ticks / TimeSpan.TicksPerMicrosecond);
}
