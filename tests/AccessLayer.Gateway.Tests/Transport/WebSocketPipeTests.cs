using System.Net.WebSockets;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>
/// The WebSocket adapter shared by MQTT and MLP (gateway/Transport/WebSocketPipe.cs), seen from an MQTT
/// client over <c>/mqtt</c>; the MLP side is covered by AccessLayer.Mlp.Tests' MlpWebSocketPipeTests.
/// </summary>
public sealed class WebSocketPipeTests
{
    [Fact]
    public async Task After_a_protocol_error_what_the_client_still_sends_is_discarded_and_it_reads_DISCONNECT_and_the_close()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var ws = await WebSocketMqttClient.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.HttpPort}/mqtt"));
        Assert.Equal(MqttReasonCode.Success, (await ws.ConnectMqttAsync("ws-babbler")).ReasonCode);

        // A packet of the reserved type 0 ends the connection with DISCONNECT; the client, not reading, goes on
        // sending 16 MiB before its own close. Without the discard after close, the server stops reading once the
        // connection is done: the client's sends stall against full socket buffers, or the connection is reset.
        await ws.Socket.SendAsync(new byte[] { 0x00, 0x00 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var junk = new byte[16 * 1024];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var sent = 0; sent < 16 * 1024 * 1024; sent += junk.Length)
        {
            await ws.Socket.SendAsync(junk, WebSocketMessageType.Binary, true, cts.Token);
        }

        await ws.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);

        var disconnect = await ws.TryReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(disconnect);
        Assert.Equal(MqttPacketType.Disconnect, disconnect.Type);
        Assert.True((byte)disconnect.AsDisconnect(MqttProtocolVersion.V500).ReasonCode >= 0x80);
        Assert.Null(await ws.TryReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketState.Closed, ws.Socket.State);
    }
}
