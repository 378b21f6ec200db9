using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// Forwards publishes to one peer over its <see cref="IPeerChannel"/>: one batch at a time (so they arrive in publish order),
/// each batch holding whatever queued while the previous one was out, up to a message and a
/// byte bound. The peer answers a batch once its subscribers took it (it waits for the ones
/// past their high watermark), so a slow peer shows here as a growing queue: past two batches'
/// worth the forwarder is <em>pressing</em> and publishers wait (<see cref="WaitForRoomAsync"/>)
/// until it is down to half a batch. A wait that expires waives the pressure for one wait,
/// doubling each time up to sixteen, until the queue drains (as a slow subscriber is waived on
/// one node). The queue is bounded: past it a QoS 0 forward is dropped (counted) and a QoS 1/2
/// publisher waits for room.
/// </summary>
internal sealed class NodeForwarder : IDisposable
{
    private readonly string _peer;
    private readonly IPeerChannel _channel;
    private readonly int _maxMessages;
    private readonly int _maxBytes;
    private readonly int _maxQueued;
    private readonly int _pressureHigh;
    private readonly int _pressureLow;
    private readonly TimeProvider _time;
    private readonly FleetMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<ForwardedMessage> _queue = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private TaskCompletionSource? _room;
    private int _count;
    private long _waivedUntil;
    private int _waiverWaits;
    private Task _loop = Task.CompletedTask;

    public NodeForwarder(string peer, IPeerChannel channel, int maxMessages, int maxBytes, int maxQueued, TimeProvider time, FleetMetrics metrics, ILogger logger)
    {
        _peer = peer;
        _channel = channel;
        _maxMessages = maxMessages;
        _maxBytes = maxBytes;
        _maxQueued = maxQueued;
        _pressureHigh = Math.Min(2 * maxMessages, maxQueued);
        _pressureLow = Math.Min(maxMessages / 2, _pressureHigh / 2);
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    public int Queued => Volatile.Read(ref _count);

    /// <summary>More than two batches wait for the peer, and no wait on it expired since it last drained.</summary>
    public bool IsPressing =>
        Volatile.Read(ref _count) >= _pressureHigh
        && (Volatile.Read(ref _waivedUntil) is var until && (until == 0 || _time.GetTimestamp() >= until));

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Queues a message; false when the queue is full (the caller drops a QoS 0 message or waits with <see cref="WaitForRoomAsync"/>).</summary>
    public bool TryEnqueue(ForwardedMessage message)
    {
        if (Interlocked.Increment(ref _count) > _maxQueued)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _queue.Enqueue(message);
        _signal.Writer.TryWrite(true);
        return true;
    }

    /// <summary>
    /// Completes when the queue is down to half a batch, or after <paramref name="timeout"/>; a wait that
    /// expires waives the pressure (see the type's summary).
    /// </summary>
    public async ValueTask WaitForRoomAsync(TimeSpan timeout)
    {
        Task room;
        lock (_queue)
        {
            if (Volatile.Read(ref _count) <= _pressureLow)
            {
                return;
            }

            room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        await room.WaitAsync(timeout, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (room.IsCompleted)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var until = Volatile.Read(ref _waivedUntil);
        if (until == 0 || now >= until)
        {
            var waits = Math.Clamp(2 * Volatile.Read(ref _waiverWaits), 1, 16);
            if (Interlocked.CompareExchange(ref _waivedUntil, now + (long)(timeout.TotalSeconds * waits * _time.TimestampFrequency), until) == until)
            {
                Volatile.Write(ref _waiverWaits, waits);
                _metrics.ForwardPressureWaived();
            }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _signal.Writer.TryComplete();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        var lost = Interlocked.Exchange(ref _count, 0);
        _queue.Clear();
        if (lost > 0)
        {
            _metrics.ForwardDropped(lost, "peer_gone");
        }

        ReleaseRoom();
        await _channel.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose() => _stop.Dispose();

    private async Task RunAsync()
    {
        while (await _signal.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
        {
            _signal.Reader.TryRead(out _);
            while (!_queue.IsEmpty)
            {
                _batch.ResetWrittenCount();
                _batch.GetSpan(ForwardFrames.HeaderSize);
                _batch.Advance(ForwardFrames.HeaderSize);
                var messages = 0;
                while (messages < _maxMessages && _batch.WrittenCount - ForwardFrames.HeaderSize < _maxBytes && _queue.TryDequeue(out var message))
                {
                    FleetCodec.WriteForwarded(_batch, message);
                    messages++;
                }

                if (Interlocked.Add(ref _count, -messages) <= _pressureLow)
                {
                    ReleaseRoom();
                }

                try
                {
                    await _channel.SendAsync(MemoryMarshal.AsMemory(_batch.WrittenMemory), _stop.Token).ConfigureAwait(false);
                    _metrics.Forwarded(messages);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The peer is dead or unreachable: durable subscribers still have these in Redis; others lose them, counted.
                    _metrics.ForwardDropped(messages, "peer_failed");
                    FleetLog.ForwardFailed(_logger, _peer, messages, ex.Message);
                }
            }
        }
    }

    private void ReleaseRoom()
    {
        TaskCompletionSource? room;
        lock (_queue)
        {
            room = _room;
            _room = null;
            Volatile.Write(ref _waivedUntil, 0);
            Volatile.Write(ref _waiverWaits, 0);
        }

        room?.TrySetResult();
    }
}
