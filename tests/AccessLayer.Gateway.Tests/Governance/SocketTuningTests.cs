using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Governance;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class SocketTuningTests
{
    [Fact]
    public void Apply_sets_keepalive_and_the_user_timeout_that_Read_reports()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        SocketTuning.Apply(socket, new LimitsOptions
        {
            TcpKeepAliveTime = TimeSpan.FromSeconds(30),
            TcpKeepAliveInterval = TimeSpan.FromSeconds(7),
            TcpKeepAliveRetryCount = 5,
            TcpUserTimeout = TimeSpan.FromSeconds(12),
        });

        var state = SocketTuning.Read(socket);
        Assert.Equal(new SocketTuningState(true, 30, 7, 5, OperatingSystem.IsLinux() ? 12_000 : 0), state);
    }

    [Fact]
    public void Keepalive_off_leaves_the_socket_alone()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketTuning.Apply(socket, new LimitsOptions { TcpKeepAlive = false, TcpUserTimeout = TimeSpan.Zero });
        var state = SocketTuning.Read(socket);
        Assert.False(state.KeepAlive);
        Assert.Equal(0, state.UserTimeoutMilliseconds);
    }
}
