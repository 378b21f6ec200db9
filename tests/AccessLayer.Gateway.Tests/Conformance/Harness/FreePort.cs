using System.Net;
using System.Net.Sockets;

namespace AccessLayer.Gateway.Tests.Conformance.Harness;

internal static class FreePort
{
    /// <summary>True when something accepts TCP connections on the port.</summary>
    public static async Task<bool> AcceptsAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True when nothing listens on the loopback port (the connect is refused, not timed out).</summary>
    public static async Task<bool> RefusesAsync(int port, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }
}
