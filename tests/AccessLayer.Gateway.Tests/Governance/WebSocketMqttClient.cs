using System.Buffers;
using System.Net.WebSockets;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Governance;

/// <summary>A raw MQTT client over .NET's ClientWebSocket: packets written with the codec, each in one binary message; received bytes framed whatever the message boundaries.</summary>
internal sealed class WebSocketMqttClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly byte[] _buffer = new byte[16 * 1024];

    private WebSocketMqttClient(ClientWebSocket socket) => _socket = socket;

    public ClientWebSocket Socket => _socket;

    public static async Task<WebSocketMqttClient> ConnectAsync(Uri uri, string? subProtocol = "mqtt", Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        if (subProtocol is not null)
        {
            socket.Options.AddSubProtocol(subProtocol);
        }

        configure?.Invoke(socket.Options);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(uri, cts.Token);
        return new WebSocketMqttClient(socket);
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        await _socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
    }

    public async Task<MqttConnAckPacket> ConnectMqttAsync(string clientId, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        await SendAsync(w => MqttConnectWriter.Write(w, new MqttConnectPacket { ProtocolVersion = version, ClientId = clientId, CleanStart = true }));
        var packet = await ReceiveAsync();
        Assert.Equal(MqttPacketType.ConnAck, packet.Type);
        return packet.AsConnAck(version);
    }

    /// <summary>The next packet, or null when the server closed the WebSocket first.</summary>
    public async Task<ReceivedPacket?> TryReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            if (_pending.WrittenCount > 0)
            {
                var sequence = new ReadOnlySequence<byte>(_pending.WrittenMemory);
                if (MqttPacketFramer.TryReadFrame(sequence, int.MaxValue, out var header, out var body, out var consumed))
                {
                    var packet = new ReceivedPacket(header, body.ToArray());
                    var rest = sequence.Slice(consumed).ToArray();
                    _pending.ResetWrittenCount();
                    _pending.Write(rest);
                    return packet;
                }
            }

            ValueWebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(_buffer.AsMemory(), cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            _pending.Write(_buffer.AsSpan(0, result.Count));
        }
    }

    public async Task<ReceivedPacket> ReceiveAsync() =>
        await TryReceiveAsync(RawMqttClient.DefaultTimeout) ?? throw new TimeoutException("No packet arrived in time.");

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
        }

        _socket.Dispose();
    }
}
