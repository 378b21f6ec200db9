using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Fleet.Infrastructure;

/// <summary>
/// A persistent-session MQTT 5.0 client for fleet tests, written with the codec under test: it keeps
/// one connection to one of several nodes, acknowledges every QoS 1 PUBLISH, records each payload
/// it got, and when its connection drops it moves on to the next node and resumes the session
/// (Clean Start 0), as a device behind a load balancer would. Subscribes once, on its first connection.
/// </summary>
internal sealed class FleetMqttClient : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly string _clientId;
    private readonly IReadOnlyList<int> _ports;
    private readonly string? _filter;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _received = new(StringComparer.Ordinal);
    private Task _run = Task.CompletedTask;
    private int _connections;
    private volatile bool _connected;

    private FleetMqttClient(string clientId, IReadOnlyList<int> ports, string? filter)
    {
        _clientId = clientId;
        _ports = ports;
        _filter = filter;
    }

    /// <summary>Payloads received, with how many times each came (QoS 1 allows duplicates).</summary>
    public IReadOnlyDictionary<string, int> Received => _received;

    /// <summary>Successful CONNECTs so far (1 until the first move).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public bool IsConnected => _connected;

    /// <summary>The port of the node it is connected to now.</summary>
    public int CurrentPort { get; private set; }

    /// <summary>Connects to <paramref name="ports"/>[0] (then the next ones in turn), subscribes <paramref name="filter"/> at QoS 1, and returns once SUBACK arrived.</summary>
    public static async Task<FleetMqttClient> StartAsync(string clientId, IReadOnlyList<int> ports, string? filter)
    {
        var client = new FleetMqttClient(clientId, ports, filter);
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client._run = Task.Run(() => client.RunAsync(subscribed));
        await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync(TaskCompletionSource subscribed)
    {
        var next = 0;
        var subscribe = _filter is not null;
        while (!_stop.IsCancellationRequested)
        {
            var port = _ports[next++ % _ports.Count];
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    connectTimeout.CancelAfter(ConnectTimeout);
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), connectTimeout.Token);
                    await SendAsync(socket, w => MqttConnectWriter.Write(w, new MqttConnectPacket
                    {
                        ProtocolVersion = MqttProtocolVersion.V500,
                        ClientId = _clientId,
                        CleanStart = false,
                        SessionExpiryInterval = 600,
                        KeepAliveSeconds = 0,
                    }), connectTimeout.Token);
                }

                var pending = new ArrayBufferWriter<byte>();
                var buffer = new byte[16 * 1024];
                while (!_stop.IsCancellationRequested)
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    pending.Write(buffer.AsSpan(0, read));
                    var sequence = new ReadOnlySequence<byte>(pending.WrittenMemory);
                    while (MqttPacketFramer.TryReadFrame(sequence, int.MaxValue, out var header, out var body, out var consumed))
                    {
                        switch (header.PacketType)
                        {
                            case MqttPacketType.ConnAck:
                                var connAck = MqttConnAckDecoder.Decode(header, body, MqttProtocolVersion.V500);
                                if (connAck.ReasonCode != MqttReasonCode.Success)
                                {
                                    throw new IOException($"CONNACK {connAck.ReasonCode}");
                                }

                                _connected = true;
                                CurrentPort = port;
                                Interlocked.Increment(ref _connections);
                                if (subscribe)
                                {
                                    await SendAsync(socket, w => MqttSubscribeWriter.Write(w, MqttProtocolVersion.V500, new MqttSubscribePacket
                                    {
                                        PacketId = 1,
                                        Subscriptions = [new MqttTopicSubscription(_filter!, MqttQualityOfService.AtLeastOnce, false, false, MqttRetainHandling.SendAtSubscribe)],
                                    }), _stop.Token);
                                }
                                else
                                {
                                    subscribed.TrySetResult();
                                }

                                break;
                            case MqttPacketType.SubAck:
                                subscribe = false;
                                subscribed.TrySetResult();
                                break;
                            case MqttPacketType.Publish:
                                var publish = MqttPublishDecoder.Decode(header, body, MqttProtocolVersion.V500);
                                var payload = Encoding.UTF8.GetString(publish.ToApplicationMessage(publish.TopicName.IsEmpty ? string.Empty : null).Payload.Span);
                                _received.AddOrUpdate(payload, 1, (_, n) => n + 1);
                                if (publish.QualityOfService == MqttQualityOfService.AtLeastOnce)
                                {
                                    var packetId = publish.PacketId;
                                    await SendAsync(socket, w => MqttPubAckWriter.Write(w, MqttProtocolVersion.V500, MqttPacketType.PubAck, packetId), _stop.Token);
                                }

                                break;
                        }

                        sequence = sequence.Slice(consumed);
                    }

                    var rest = sequence.ToArray();
                    pending.ResetWrittenCount();
                    pending.Write(rest);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or MqttProtocolException)
            {
                // The node is gone (or refused): try the next one after a short pause.
            }

            _connected = false;
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task SendAsync(Socket socket, Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        var bytes = buffer.WrittenMemory;
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes[sent..], SocketFlags.None, cancellationToken);
        }
    }
}
