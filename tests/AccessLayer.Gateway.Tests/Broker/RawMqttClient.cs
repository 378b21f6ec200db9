using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>One packet as it came off the wire.</summary>
internal sealed record ReceivedPacket(MqttFixedHeader Header, byte[] Body)
{
    public MqttPacketType Type => Header.PacketType;

    private ReadOnlySequence<byte> Sequence => new(Body);

    public MqttConnAckPacket AsConnAck(MqttProtocolVersion v) => MqttConnAckDecoder.Decode(Header, Sequence, v);

    public MqttSubAckPacket AsSubAck(MqttProtocolVersion v) => MqttSubAckDecoder.Decode(Header, Sequence, v);

    public MqttUnsubAckPacket AsUnsubAck(MqttProtocolVersion v) => MqttUnsubAckDecoder.Decode(Header, Sequence, v);

    public MqttDisconnectPacket AsDisconnect(MqttProtocolVersion v) => MqttDisconnectDecoder.Decode(Header, Sequence, v);

    public MqttPubAckPacket AsPubAck(MqttProtocolVersion v) => MqttPubAckDecoder.Decode(Header, Sequence, v);

    public MqttPublishPacket AsPublish(MqttProtocolVersion v) => MqttPublishDecoder.Decode(Header, Sequence, v);
}

/// <summary>
/// A deliberately low-level MQTT client over a real socket: it writes exactly the packets a
/// test asks for (valid or not) with the codec under test and hands back every packet received.
/// </summary>
internal sealed class RawMqttClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private readonly ArrayBufferWriter<byte> _pending = new();

    private RawMqttClient(Socket socket) => _socket = socket;

    public MqttProtocolVersion Version { get; private set; } = MqttProtocolVersion.V500;

    /// <param name="receiveBufferSize">SO_RCVBUF before connecting; 0 keeps the kernel's. A small one makes a client that stops reading back the broker up quickly.</param>
    public static async Task<RawMqttClient> OpenAsync(int port, int receiveBufferSize = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize > 0)
        {
            socket.ReceiveBufferSize = receiveBufferSize;
        }

        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawMqttClient(socket);
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        await SendRawAsync(buffer.WrittenMemory);
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes[sent..], SocketFlags.None);
        }
    }

    /// <param name="timeout">How long to wait for CONNACK; the client's default when null.</param>
    public async Task<MqttConnAckPacket> ConnectAsync(MqttConnectPacket connect, TimeSpan? timeout = null)
    {
        Version = connect.ProtocolVersion;
        await SendAsync(w => MqttConnectWriter.Write(w, connect));
        var packet = await ReceiveAsync(timeout);
        Assert.Equal(MqttPacketType.ConnAck, packet.Type);
        return packet.AsConnAck(Version);
    }

    public Task<MqttConnAckPacket> ConnectAsync(string clientId, MqttProtocolVersion version = MqttProtocolVersion.V500, bool cleanStart = true, ushort keepAlive = 0, uint sessionExpiry = 0, MqttWillMessage? will = null, ushort receiveMaximum = ushort.MaxValue, ushort topicAliasMaximum = 0, uint? maximumPacketSize = null) =>
        ConnectAsync(new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = cleanStart,
            KeepAliveSeconds = keepAlive,
            SessionExpiryInterval = sessionExpiry,
            Will = will,
            ReceiveMaximum = receiveMaximum,
            TopicAliasMaximum = topicAliasMaximum,
            MaximumPacketSize = maximumPacketSize,
        });

    public async Task<MqttSubAckPacket> SubscribeAsync(string filter, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce, ushort packetId = 1, uint? subscriptionId = null, bool noLocal = false, MqttRetainHandling retainHandling = MqttRetainHandling.SendAtSubscribe)
    {
        var subscribe = new MqttSubscribePacket
        {
            PacketId = packetId,
            SubscriptionIdentifier = subscriptionId,
            Subscriptions = [new MqttTopicSubscription(filter, qos, noLocal, false, retainHandling)],
        };
        await SendAsync(w => MqttSubscribeWriter.Write(w, Version, subscribe));
        var packet = await ReceiveAsync();
        Assert.Equal(MqttPacketType.SubAck, packet.Type);
        return packet.AsSubAck(Version);
    }

    public Task PublishAsync(string topic, string payload, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, ushort packetId = 0, bool retain = false, bool dup = false, ushort topicAlias = 0, bool omitTopic = false, uint? messageExpiry = null)
    {
        var message = new MqttApplicationMessage { Topic = topic, Payload = Encoding.UTF8.GetBytes(payload), QualityOfService = qos, Retain = retain, MessageExpiryInterval = messageExpiry };
        return SendAsync(w => MqttPublishWriter.Write(w, Version, message, qos, retain, dup, packetId, topicAlias, ReadOnlySpan<uint>.Empty, omitTopic));
    }

    public Task SendAckAsync(MqttPacketType type, ushort packetId) =>
        SendAsync(w => MqttPubAckWriter.Write(w, Version, type, packetId));

    /// <summary>The next PUBLISH, as (message, packet id, dup); other packets in between fail the test.</summary>
    public async Task<(MqttApplicationMessage Message, ushort PacketId, bool Dup, MqttPublishPacket Raw)> ReceivePublishAsync(TimeSpan? timeout = null)
    {
        var packet = await ReceiveAsync(timeout);
        Assert.Equal(MqttPacketType.Publish, packet.Type);
        var publish = packet.AsPublish(Version);
        return (publish.ToApplicationMessage(publish.TopicName.IsEmpty ? string.Empty : null), publish.PacketId, publish.Dup, publish);
    }

    public async Task<ReceivedPacket> ReceiveAsync(TimeSpan? timeout = null)
    {
        return await TryReceiveAsync(timeout ?? DefaultTimeout) ?? throw new TimeoutException("No packet arrived in time.");
    }

    /// <summary>The next packet, or null when the peer closed or nothing came within the timeout.</summary>
    public async Task<ReceivedPacket?> TryReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            if (TryTakePacket(out var packet))
            {
                return packet;
            }

            int read;
            try
            {
                read = await _socket.ReceiveAsync(_receiveBuffer, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            catch (SocketException)
            {
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            _pending.Write(_receiveBuffer.AsSpan(0, read));
        }
    }

    /// <summary>True when the broker closed the connection (after any packets still in flight) within the timeout.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(_receiveBuffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return true;
                }
            }
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

    private bool TryTakePacket(out ReceivedPacket packet)
    {
        packet = null!;
        if (_pending.WrittenCount == 0)
        {
            return false;
        }

        var sequence = new ReadOnlySequence<byte>(_pending.WrittenMemory);
        if (!MqttPacketFramer.TryReadFrame(sequence, int.MaxValue, out var header, out var body, out var consumed))
        {
            return false;
        }

        packet = new ReceivedPacket(header, body.ToArray());
        var rest = sequence.Slice(consumed).ToArray();
        _pending.ResetWrittenCount();
        _pending.Write(rest);
        return true;
    }

    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public async Task DisconnectAsync(MqttReasonCode reason = MqttReasonCode.Success)
    {
        await SendAsync(w => MqttDisconnectWriter.Write(w, Version, new MqttDisconnectPacket { ReasonCode = reason }));
        _socket.Shutdown(SocketShutdown.Send);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
