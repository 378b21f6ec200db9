using System.Buffers;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using AccessLayer.Bots.Metrics;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Client;

/// <summary>
/// A lean MQTT client for load generation: one socket, one receive loop, one flush loop. Writers
/// (publishers, acknowledgements, pings) append to a pending buffer under a lock; the flush loop swaps
/// it out and sends whole batches, so a busy connection costs one send per batch, not per packet.
/// </summary>
public sealed class BotMqttClient : IAsyncDisposable
{
    private const int ReceiveBufferSize = 16 * 1024;
    private const int SendHighWater = 32 * 1024;
    private const int KeepSendBuffer = 256 * 1024;

    private readonly BotConnectionSettings _settings;
    private readonly BotStats _stats;
    private readonly object _gate = new();
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _inflightLimit;
    private PooledBufferWriter _pending = new();
    private PooledBufferWriter _sending = new();
    private bool _flushing;
    private Task _flushTask = Task.CompletedTask;
    private TaskCompletionSource? _drained;
    private Socket? _socket;
    private Stream? _stream;
    private TaskCompletionSource<MqttConnAckPacket>? _connAck;
    private TaskCompletionSource<MqttSubAckPacket>? _subAck;
    private Task _receiveLoop = Task.CompletedTask;
    private SemaphoreSlim? _inflight;
    private ulong[]? _idsInUse;
    private ushort _nextPacketId;
    private int _state;
    private long _lastSend;
    private long _received;

    private const int StateNew = 0;
    private const int StateConnected = 1;
    private const int StateClosing = 2;
    private const int StateClosed = 3;

    public BotMqttClient(BotConnectionSettings settings, BotStats stats)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _stats = stats ?? throw new ArgumentNullException(nameof(stats));
        _inflightLimit = Math.Clamp(settings.Inflight, 1, 65_000);
    }

    public string ClientId { get; private set; } = "";

    public bool IsConnected => Volatile.Read(ref _state) == StateConnected;

    /// <summary>
    /// Completes when the connection has ended: with the kind of failure (<c>connection_lost</c>,
    /// <c>connection_closed_by_broker</c>, ...) when an established connection was lost, with null when this
    /// side closed it or it never got established.
    /// </summary>
    public Task<string?> Closed => _closed.Task;

    /// <summary>PUBLISH packets received on this connection.</summary>
    public long ReceivedCount => Volatile.Read(ref _received);

    /// <summary>Opens the socket (bound to <paramref name="source"/> when given), sends CONNECT and waits for a successful CONNACK.</summary>
    /// <param name="reconnect">
    /// The client id's connection was lost and this connects it again: counted as a reconnect (or an error
    /// <c>reconnect_&lt;kind&gt;</c>), not among the first connects' attempts, failures and latency.
    /// </param>
    /// <exception cref="BotConnectException">The attempt failed; its <see cref="BotConnectException.Kind"/> is already counted in the stats.</exception>
    public async Task ConnectAsync(string clientId, IPAddress? source, CancellationToken cancellationToken, bool reconnect = false)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (Interlocked.CompareExchange(ref _state, StateClosing, StateNew) != StateNew)
        {
            throw new InvalidOperationException("A bot client connects once.");
        }

        ClientId = clientId;
        if (!reconnect)
        {
            _stats.ConnectAttempt();
        }

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.ConnectTimeout);
        string? failure = null;
        try
        {
            var socket = new Socket(_settings.Broker.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            if (_settings.SendBufferBytes > 0)
            {
                socket.SendBufferSize = _settings.SendBufferBytes;
            }

            if (source is not null)
            {
                SourceAddressPool.Bind(socket, source);
            }

            await socket.ConnectAsync(_settings.Broker, timeout.Token);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (_settings.Tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var tlsOptions = new SslClientAuthenticationOptions { TargetHost = _settings.TargetHost };
                if (_settings.Insecure)
                {
#pragma warning disable CA5359 // --insecure: the operator asked to accept a test broker's self-signed certificate.
                    tlsOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
                }

                await ssl.AuthenticateAsClientAsync(tlsOptions, timeout.Token);
            }

            _stream = stream;
            _connAck = new TaskCompletionSource<MqttConnAckPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
            var connect = new MqttConnectPacket
            {
                ProtocolVersion = _settings.Version,
                CleanStart = _settings.SessionExpirySeconds == 0 || (_settings.Version == MqttProtocolVersion.V500 && !reconnect),
                SessionExpiryInterval = _settings.Version == MqttProtocolVersion.V500 ? _settings.SessionExpirySeconds : 0,
                ClientId = clientId,
                KeepAliveSeconds = _settings.KeepAliveSeconds,
                MaximumPacketSize = _settings.Version == MqttProtocolVersion.V500 ? (uint)_settings.MaxPacketSize : null,
            };
            lock (_gate)
            {
                MqttConnectWriter.Write(_pending, connect);
                StartFlushLocked();
            }

            _receiveLoop = ReceiveLoopAsync(stream);

            // Once CONNECT is out the broker may already count the client: its answer is awaited (within the connect
            // timeout) even when the run is stopping, so the report agrees with the broker about what connected.
            var left = _settings.ConnectTimeout - Stopwatch.GetElapsedTime(started);
            var ack = await _connAck.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            if (ack.ReasonCode != MqttReasonCode.Success)
            {
                failure = "connack_" + ack.ReasonCode;
            }
            else
            {
                Volatile.Write(ref _state, StateConnected);
                if (reconnect)
                {
                    _stats.Reconnected(Stopwatch.GetTimestamp() - started);
                }
                else
                {
                    _stats.ConnectSucceeded(Stopwatch.GetTimestamp() - started);
                }

                return;
            }
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            failure = "connect_timeout";
        }
        catch (OperationCanceledException)
        {
            failure = "connect_cancelled";
        }
        catch (SocketException e)
        {
            failure = "socket_" + e.SocketErrorCode;
        }
        catch (AuthenticationException)
        {
            failure = "tls_handshake";
        }
        catch (MqttProtocolException e)
        {
            failure = "protocol_" + e.ReasonCode;
        }
        catch (IOException)
        {
            failure = "connection_lost_during_connect";
        }

        if (reconnect)
        {
            _stats.Error("reconnect_" + failure);
        }
        else
        {
            _stats.ConnectFailed(failure!);
        }

        Close();
        throw new BotConnectException(failure!);
    }

    /// <summary>Subscribes to one filter and waits for SUBACK; false when the broker refused it.</summary>
    public async Task<bool> SubscribeAsync(string topicFilter, MqttQualityOfService qos, CancellationToken cancellationToken)
    {
        var subAck = new TaskCompletionSource<MqttSubAckPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureConnectedLocked();
            _subAck = subAck;
            // Subscriptions happen before any publish, so a fixed identifier cannot collide with one in flight.
            MqttSubscribeWriter.Write(_pending, _settings.Version, new MqttSubscribePacket
            {
                PacketId = ushort.MaxValue,
                Subscriptions = [new MqttTopicSubscription(topicFilter, qos)],
            });
            StartFlushLocked();
        }

        var ack = await subAck.Task.WaitAsync(_settings.ConnectTimeout, cancellationToken);
        var code = ack.ReasonCodes[0];
        if ((byte)code >= 0x80)
        {
            _stats.Error("suback_" + code);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Stamps <paramref name="publication"/>'s payload with the current time and queues one PUBLISH. Waits while
    /// the QoS 1/2 window is full or the send buffer is over its high-water mark. False once the connection is gone.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> PublishAsync(BotPublication publication, MqttQualityOfService qos, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            var inflight = _inflight ??= CreateInflightWindow();
            if (!inflight.Wait(0, CancellationToken.None))
            {
                await inflight.WaitAsync(cancellationToken);
            }
        }

        int pendingBytes;
        long stamp;
        lock (_gate)
        {
            if (_state != StateConnected)
            {
                return false;
            }

            var packetId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : AllocatePacketIdLocked();
            stamp = Stopwatch.GetTimestamp();
            PayloadStamp.Write(publication.Payload, stamp);
            MqttPublishWriter.Write(_pending, _settings.Version, publication.Message, qos, retain: false, dup: false, packetId, topicAlias: 0, subscriptionIdentifiers: default);
            StartFlushLocked();
            pendingBytes = _pending.WrittenCount;
        }

        _stats.PublishWritten(stamp);
        publication.Written(stamp >= _stats.MeasureFrom);
        if (pendingBytes > SendHighWater)
        {
            // Bounded by the caller's token: a broker that stopped reading cannot hold a publisher past its run.
            await WaitDrainedAsync().WaitAsync(cancellationToken);
        }

        return true;
    }

    /// <summary>Sends PINGREQ when nothing was sent for <paramref name="idleTicks"/> (keep alive).</summary>
    public void PingIfIdle(long now, long idleTicks)
    {
        if (now - Volatile.Read(ref _lastSend) < idleTicks)
        {
            return;
        }

        lock (_gate)
        {
            if (_state != StateConnected)
            {
                return;
            }

            MqttPingWriter.WritePingReq(_pending);
            StartFlushLocked();
        }

        Volatile.Write(ref _lastSend, now);
    }

    /// <summary>Sends DISCONNECT, waits (bounded) for the broker to close, and releases everything.</summary>
    public async Task DisconnectAsync(TimeSpan wait)
    {
        Task flush;
        lock (_gate)
        {
            if (_state != StateConnected)
            {
                Close();
                return;
            }

            _state = StateClosing;
            MqttDisconnectWriter.Write(_pending, _settings.Version);
            StartFlushLocked();
            flush = _flushTask;
        }

        _stats.Disconnected();
        try
        {
            await flush.WaitAsync(wait);
            _socket?.Shutdown(SocketShutdown.Send);
            await _receiveLoop.WaitAsync(wait);
        }
        catch (Exception e) when (e is TimeoutException or SocketException or ObjectDisposedException or IOException)
        {
            // The broker did not close in time; closing our end is all that is left.
        }

        Close();
    }

    public async ValueTask DisposeAsync()
    {
        if (IsConnected)
        {
            await DisconnectAsync(TimeSpan.FromSeconds(1));
        }

        Close();
    }

    private SemaphoreSlim CreateInflightWindow()
    {
        _idsInUse = new ulong[65536 / 64];
        // No real maximum: a broken connection releases the whole window at once to wake waiters.
        return new SemaphoreSlim(_inflightLimit, int.MaxValue);
    }

    private ushort AllocatePacketIdLocked()
    {
        var inUse = _idsInUse!;
        while (true)
        {
            var id = ++_nextPacketId;
            if (id == 0 || id == ushort.MaxValue)
            {
                continue;
            }

            ref var word = ref inUse[id >> 6];
            var bit = 1UL << (id & 63);
            if ((word & bit) == 0)
            {
                word |= bit;
                return id;
            }
        }
    }

    private void CompletePacketId(ushort id)
    {
        bool known;
        lock (_gate)
        {
            var inUse = _idsInUse;
            if (inUse is null)
            {
                known = false;
            }
            else
            {
                ref var word = ref inUse[id >> 6];
                var bit = 1UL << (id & 63);
                known = (word & bit) != 0;
                word &= ~bit;
            }
        }

        if (!known)
        {
            _stats.Error("unexpected_ack");
            return;
        }

        _stats.PublishAcked();
        _inflight!.Release();
    }

    private void EnsureConnectedLocked()
    {
        if (_state != StateConnected)
        {
            throw new InvalidOperationException("The client is not connected.");
        }
    }

    private void StartFlushLocked()
    {
        if (!_flushing && _stream is not null)
        {
            _flushing = true;
            _flushTask = FlushLoopAsync(_stream);
        }
    }

    private Task WaitDrainedAsync()
    {
        lock (_gate)
        {
            if (_pending.WrittenCount <= SendHighWater || _state != StateConnected)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    private async Task FlushLoopAsync(Stream stream)
    {
        // Give the writer that started the flush the chance to add more before the first send.
        await Task.Yield();
        try
        {
            while (true)
            {
                PooledBufferWriter batch;
                TaskCompletionSource? drained;
                bool done;
                lock (_gate)
                {
                    drained = _drained;
                    _drained = null;
                    done = _pending.WrittenCount == 0;
                    if (done)
                    {
                        _flushing = false;
                        if (_settings.ReleaseBuffersWhenIdle || _state >= StateClosing)
                        {
                            _pending.Release();
                            _sending.Release();
                        }
                    }
                    else
                    {
                        batch = _pending;
                        _pending = _sending;
                        _sending = batch;
                    }
                }

                drained?.TrySetResult();
                if (done)
                {
                    return;
                }

                await stream.WriteAsync(_sending.WrittenMemory);
                Volatile.Write(ref _lastSend, Stopwatch.GetTimestamp());
                _sending.Reset(KeepSendBuffer);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fault(Volatile.Read(ref _state) >= StateClosing ? null : "send_failed");
        }
    }

    private async Task ReceiveLoopAsync(Stream stream)
    {
        byte[]? buffer = null;
        int start = 0, end = 0;
        string? failure = null;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    if (_settings.ReleaseBuffersWhenIdle)
                    {
                        // A zero-byte read waits for data without pinning a buffer to an idle connection.
#pragma warning disable CA2022 // A zero-byte read reads nothing by design.
                        await stream.ReadAsync(Memory<byte>.Empty);
#pragma warning restore CA2022
                    }

                    buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                }
                else if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        if (buffer.Length >= _settings.MaxPacketSize + MqttVariableByteInteger.MaxSize + 1)
                        {
                            throw new MqttProtocolException(MqttReasonCode.PacketTooLarge, "Incoming packet exceeds the maximum packet size.");
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, end).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }

                var read = await stream.ReadAsync(buffer.AsMemory(end));
                if (read == 0)
                {
                    failure = Volatile.Read(ref _state) >= StateClosing ? null : "connection_closed_by_broker";
                    break;
                }

                end += read;
                start += Process(buffer, start, end);
                if (start == end)
                {
                    start = end = 0;
                    if (_settings.ReleaseBuffersWhenIdle)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                }
            }
        }
        catch (MqttProtocolException e)
        {
            failure = "protocol_" + e.ReasonCode;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            failure = Volatile.Read(ref _state) >= StateClosing ? null : "connection_lost";
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        Fault(failure);
    }

    /// <summary>Handles every whole packet in buffer[start..end); returns the bytes consumed.</summary>
    private int Process(byte[] buffer, int start, int end)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, start, end - start));
        var now = Stopwatch.GetTimestamp();
        var wroteReply = false;
        while (MqttPacketFramer.TryReadFrame(ref reader, _settings.MaxPacketSize, out var header, out var body))
        {
            wroteReply |= Handle(header, body, now);
        }

        if (wroteReply)
        {
            lock (_gate)
            {
                StartFlushLocked();
            }
        }

        return (int)reader.Consumed;
    }

    private bool Handle(in MqttFixedHeader header, in ReadOnlySequence<byte> body, long now)
    {
        var version = _settings.Version;
        switch (header.PacketType)
        {
            case MqttPacketType.Publish:
                var publish = MqttPublishDecoder.Decode(header, body, version);
                Interlocked.Increment(ref _received);
                _stats.MessageReceived(PayloadStamp.Read(publish.Payload), now);
                if (publish.QualityOfService == MqttQualityOfService.AtMostOnce)
                {
                    return false;
                }

                WriteAck(publish.QualityOfService == MqttQualityOfService.AtLeastOnce ? MqttPacketType.PubAck : MqttPacketType.PubRec, publish.PacketId);
                return true;
            case MqttPacketType.PubAck:
            case MqttPacketType.PubComp:
                CompletePacketId(MqttPubAckDecoder.Decode(header, body, version).PacketId);
                return false;
            case MqttPacketType.PubRec:
                var pubRec = MqttPubAckDecoder.Decode(header, body, version);
                if ((byte)pubRec.ReasonCode >= 0x80)
                {
                    _stats.Error("pubrec_" + pubRec.ReasonCode);
                    CompletePacketId(pubRec.PacketId);
                    return false;
                }

                WriteAck(MqttPacketType.PubRel, pubRec.PacketId);
                return true;
            case MqttPacketType.PubRel:
                WriteAck(MqttPacketType.PubComp, MqttPubAckDecoder.Decode(header, body, version).PacketId);
                return true;
            case MqttPacketType.ConnAck:
                _connAck?.TrySetResult(MqttConnAckDecoder.Decode(header, body, version));
                return false;
            case MqttPacketType.SubAck:
                _subAck?.TrySetResult(MqttSubAckDecoder.Decode(header, body, version));
                return false;
            case MqttPacketType.PingResp:
                return false;
            case MqttPacketType.Disconnect:
                _stats.Error("disconnect_from_broker");
                return false;
            default:
                _stats.Error("unexpected_" + header.PacketType);
                return false;
        }
    }

    private void WriteAck(MqttPacketType type, ushort packetId)
    {
        lock (_gate)
        {
            MqttPubAckWriter.Write(_pending, _settings.Version, type, packetId);
        }
    }

    private void Fault(string? kind)
    {
        var previous = Interlocked.Exchange(ref _state, StateClosed);
        if (previous == StateClosed)
        {
            return;
        }

        if (kind is not null)
        {
            _stats.Error(kind);
        }

        if (previous == StateConnected)
        {
            _stats.Disconnected();
        }

        _closed.TrySetResult(previous == StateConnected ? kind : null);

        _connAck?.TrySetException(new IOException("Connection closed before CONNACK."));
        _subAck?.TrySetException(new IOException("Connection closed before SUBACK."));
        // Wake every publisher waiting for window space; they see the closed state and stop.
        _inflight?.Release(_inflightLimit);
        lock (_gate)
        {
            _drained?.TrySetResult();
            _drained = null;
        }

        Close();
    }

    private void Close()
    {
        Volatile.Write(ref _state, StateClosed);
        _closed.TrySetResult(null);
        try
        {
            _stream?.Dispose();
            _socket?.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Closing a broken connection may fail; it is closed either way.
        }
    }
}
