using System.Net;
using System.Net.Sockets;

namespace AccessLayer.Tests.Shared;

/// <summary>
/// Loopback TCP ports for the servers a test starts. Binding to port 0 and releasing it can hand the same
/// port out twice in a row (a gateway once got one port for both its device HTTP and management surfaces),
/// and the port comes from the ephemeral range where every outgoing connection takes its local port too.
/// So ports come from below that range (10000–32767), are never handed out twice in one test process, and
/// are free (bind succeeds) at the moment they are handed out. Test assemblies run in parallel processes;
/// the random start keeps them apart in practice.
/// </summary>
public static class FreePorts
{
    private const int Low = 10_000;
    private const int High = 32_768;

    private static readonly HashSet<int> Issued = [];
    private static readonly Lock Gate = new();

    /// <summary>A loopback TCP port nobody listens on now and this process has not handed out before.</summary>
    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Low, High);
                if (Issued.Contains(port) || !Bindable(port))
                    continue;
                Issued.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port in {Low}..{High - 1} after 1000 attempts.");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
