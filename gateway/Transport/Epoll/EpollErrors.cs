using System.Net.Sockets;

namespace AccessLayer.Gateway.Transport.Epoll;

internal static class EpollErrors
{
    public static SocketException Failed(string call, int errno)
        => new((int)LinuxNative.ToSocketError(errno), $"{call} failed: errno {errno}.");
}
