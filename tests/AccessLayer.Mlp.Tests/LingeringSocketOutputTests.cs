using System.Net;
using System.Net.Sockets;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The lingering close on Kestrel's socket transport (gateway/Connections/LingeringSocketOutput.cs), seen on the
/// MLP TCP listener: after GOAWAY the server shuts down its send side and discards what the client still sends.
/// </summary>
public sealed class LingeringSocketOutputTests
{
    [Fact]
    public async Task A_client_still_sending_after_a_connection_error_reads_GOAWAY_and_the_FIN_and_is_not_reset()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.MlpPort));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        // A first frame other than HELLO is a connection error. The client reads until the server's FIN, and then
        // still has 32 KiB in flight: Kestrel alone closes both directions after the GOAWAY, so those bytes reach
        // a closed socket and the client is reset (its sends fail). Lingering, the server reads and drops them.
        await socket.SendAsync(new byte[] { 0x50, 0x00 }, cts.Token);
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, cts.Token);
            if (read == 0)
                break;
            received.AddRange(buffer.AsSpan(0, read));
        }

        var chunk = new byte[4096];
        for (var i = 0; i < 8; i++)
        {
            await socket.SendAsync(chunk, cts.Token);
            await Task.Delay(10, cts.Token);
        }

        var bytes = received.ToArray();
        Assert.True(MlpFrameReader.TryParseHeader(bytes, MlpLimits.AbsoluteMaxFrameSize, out var type, out _, out var length, out var header));
        Assert.Equal(MlpFrameType.GoAway, type);
        Assert.Equal(MlpErrorCode.UnexpectedFrame, GoAway.Parser.ParseFrom(bytes, header, length).Code);
    }
}
