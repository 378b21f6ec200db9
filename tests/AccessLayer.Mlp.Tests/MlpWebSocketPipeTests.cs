using System.Buffers;
using System.Net.WebSockets;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Mlp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests;

/// <summary>MLP over WebSocket on the wire (docs/protocol.md §2.1): binary messages of whole frames only.</summary>
public sealed class MlpWebSocketPipeTests
{
    private static async Task<ClientWebSocket> OpenAsync(MlpTestGateway gateway)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("mlp.v1");
        await socket.ConnectAsync(gateway.WebSocketEndpoint, CancellationToken.None);
        Assert.Equal("mlp.v1", socket.SubProtocol);
        return socket;
    }

    private static async Task<(GoAway GoAway, WebSocketCloseStatus? Status)> ReceiveGoAwayAndCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var result = await socket.ReceiveAsync(buffer, cts.Token);
        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        Assert.True(MlpFrameReader.TryParseHeader(buffer.AsSpan(0, result.Count), MlpLimits.AbsoluteMaxFrameSize, out var type, out _, out var length, out var header));
        Assert.Equal(MlpFrameType.GoAway, type);
        var goAway = GoAway.Parser.ParseFrom(buffer, header, length);
        var close = await socket.ReceiveAsync(buffer, cts.Token);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        return (goAway, socket.CloseStatus);
    }

    /// <summary>Holds every HELLO until released: the connection reads nothing meanwhile.</summary>
    private sealed class StalledAuthenticator : IMlpAuthenticator
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<MlpAuthResult> AuthenticateAsync(MlpAuthRequest request, CancellationToken cancellationToken)
        {
            await Release.Task.WaitAsync(cancellationToken);
            return MlpAuthResult.Fail("released");
        }
    }

    [Fact]
    public async Task A_client_that_sends_while_the_connection_does_not_read_is_pushed_back_not_buffered()
    {
        var authenticator = new StalledAuthenticator();
        await using var gateway = await MlpTestGateway.StartAsync(services: s => s.AddSingleton<IMlpAuthenticator>(authenticator));
        using var socket = await OpenAsync(gateway);
        var hello = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteHello(hello, RawMlpConnection.Hello("pusher", gateway.TokenFor("pusher")));
        await socket.SendAsync(hello.WrittenMemory, WebSocketMessageType.Binary, true, CancellationToken.None);

        // 64 MiB of whole PING frames while the HELLO waits: without back-pressure the gateway's input
        // pipe takes all of it; with it, the sends stall once the pipe bound and the socket buffers are full.
        var ping = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WritePing(ping, new byte[8]);
        var message = new byte[16 * 1024 / ping.WrittenCount * ping.WrittenCount];
        for (var offset = 0; offset < message.Length; offset += ping.WrittenCount)
            ping.WrittenSpan.CopyTo(message.AsSpan(offset));
        const long Total = 64L * 1024 * 1024;
        long sent = 0;
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            while (Volatile.Read(ref sent) < Total)
            {
                await socket.SendAsync(message, WebSocketMessageType.Binary, true, stop.Token);
                Interlocked.Add(ref sent, message.Length);
            }
        });

        // Polls (bounded) until the client has made no progress for 2 s, or has sent everything (the failure).
        long last = -1;
        for (int i = 0, still = 0; i < 150 && still < 10 && !sending.IsCompleted; i++)
        {
            await Task.Delay(200);
            var now = Volatile.Read(ref sent);
            still = now == last ? still + 1 : 0;
            last = now;
        }

        Assert.False(sending.IsCompleted, "the gateway buffered the whole 64 MiB without pushing back");
        Assert.True(Volatile.Read(ref sent) < Total / 2, $"{Volatile.Read(ref sent)} bytes accepted while the connection read nothing");
        stop.Cancel();
        authenticator.Release.TrySetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => sending);
    }

    [Fact]
    public async Task After_the_server_closes_what_the_client_still_sends_is_discarded_until_its_close_frame()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:HandshakeTimeoutSeconds=10"]);
        using var socket = await OpenAsync(gateway);
        await Eventually.TrueAsync(() => gateway.Connections.All.Any(), "the connection was not registered");
        gateway.Time.Advance(TimeSpan.FromSeconds(10));
        gateway.RunMaintenance();

        // The server has sent GOAWAY and its close frame; the client, not reading, still sends 16 MiB before
        // its own close. The connection no longer reads its input: without the lingering discard these
        // messages pile up against the input pipe's bound and the client's sends stall for good.
        var ping = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WritePing(ping, new byte[8]);
        var message = new byte[16 * 1024 / ping.WrittenCount * ping.WrittenCount];
        for (var offset = 0; offset < message.Length; offset += ping.WrittenCount)
            ping.WrittenSpan.CopyTo(message.AsSpan(offset));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var sent = 0; sent < 16 * 1024 * 1024; sent += message.Length)
            await socket.SendAsync(message, WebSocketMessageType.Binary, true, cts.Token);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);

        var (goAway, _) = await ReceiveGoAwayAndCloseAsync(socket);
        Assert.Equal(MlpErrorCode.HandshakeTimeout, goAway.Code);
    }

    [Fact]
    public async Task A_text_message_gets_GOAWAY_MALFORMED_FRAME_and_close_1002()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        using var socket = await OpenAsync(gateway);
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        var (goAway, status) = await ReceiveGoAwayAndCloseAsync(socket);
        Assert.Equal(MlpErrorCode.MalformedFrame, goAway.Code);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, status);
    }

    [Fact]
    public async Task A_message_that_ends_inside_a_frame_is_MALFORMED_FRAME()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        using var socket = await OpenAsync(gateway);
        // HELLO header declaring 10 bytes, only 3 of them in this message.
        await socket.SendAsync(new byte[] { 0x70, 0x0A, 0x08, 0x01, 0x1A }, WebSocketMessageType.Binary, true, CancellationToken.None);

        var (goAway, status) = await ReceiveGoAwayAndCloseAsync(socket);
        Assert.Equal(MlpErrorCode.MalformedFrame, goAway.Code);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, status);
    }

    [Fact]
    public async Task A_message_over_max_frame_size_is_FRAME_TOO_LARGE_and_close_1009()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        using var socket = await OpenAsync(gateway);
        await socket.SendAsync(new byte[MlpLimits.DefaultMaxFrameSize + 100], WebSocketMessageType.Binary, true, CancellationToken.None);

        var (goAway, status) = await ReceiveGoAwayAndCloseAsync(socket);
        Assert.Equal(MlpErrorCode.FrameTooLarge, goAway.Code);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
    }
}
