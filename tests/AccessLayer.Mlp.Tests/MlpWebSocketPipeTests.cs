using System.Net.WebSockets;
using AccessLayer.Mlp.Tests.Infrastructure;
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
