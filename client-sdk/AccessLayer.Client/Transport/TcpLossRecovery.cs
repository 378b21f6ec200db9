using System.Net.Sockets;

namespace AccessLayer.Client.Transport;

/// <summary>
/// Per-socket TCP loss recovery where the kernel offers it (docs/sdk.md "TCP loss recovery"): <c>TCP_RTO_MIN_US</c> (Linux 6.15+;
/// not in today's Android or iOS kernels) and <c>TCP_THIN_LINEAR_TIMEOUTS</c> (Linux, Android). Only on Linux and Android: the same
/// option numbers mean other things on Windows and Apple systems. A kernel that refuses an option is not asked again.
/// </summary>
internal static class TcpLossRecovery
{
    private const int IpProtoTcp = 6;
    private const int TcpThinLinearTimeouts = 16;
    private const int TcpRtoMinUs = 45;
    private static int s_noRtoMin;
    private static int s_noThinLinear;

    public static bool Supported => OperatingSystem.IsLinux() || OperatingSystem.IsAndroid();

    /// <summary>Sets what it can; returns whether the RTO floor was set.</summary>
    public static bool TryApply(Socket socket, TimeSpan rtoMin, bool thinLinearTimeouts)
    {
        if (!Supported)
            return false;
        if (thinLinearTimeouts)
            TrySet(socket, TcpThinLinearTimeouts, 1, ref s_noThinLinear);
        return rtoMin > TimeSpan.Zero && TrySet(socket, TcpRtoMinUs, (int)(rtoMin.Ticks / TimeSpan.TicksPerMicrosecond), ref s_noRtoMin);
    }

    private static bool TrySet(Socket socket, int name, int value, ref int unsupported)
    {
        if (Volatile.Read(ref unsupported) != 0)
            return false;
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, value);
        try
        {
            socket.SetRawSocketOption(IpProtoTcp, name, bytes);
            return true;
        }
        catch (SocketException ex)
        {
            if (ex.SocketErrorCode == SocketError.ProtocolOption)
                Volatile.Write(ref unsupported, 1);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
