using System.Net.Sockets;

namespace AccessLayer.Tests.Shared;

/// <summary>Whether a peer ended a raw socket connection, for tests that feed a server bad input and expect it to close.</summary>
internal static class SocketClosing
{
    /// <summary>True when the peer ended the connection (whatever it sent first, an alert say) within 10 s; false when it stayed open.</summary>
    public static async Task<bool> ClosedAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
