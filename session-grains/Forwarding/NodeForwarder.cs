using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
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
/// publisher waits for room. No task waits while the queue is empty: the publish that finds it idle starts the
/// sending on its own thread and sends the first batch there (a forwarded message then crosses no thread hop on this
/// node before its send); what remains after that batch, or after a send that has to wait, goes on on the thread pool.
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
    private readonly CancellationTokenSource _stop = new();
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private TaskCompletionSource? _room;
    private int _count;
    private int _sending;
    private bool _started;
    private long _waivedUntil;
    private int _waiverWaits;
    private TaskCompletionSource? _stopped;

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

    /// <summary>Lets queued messages go (a forwarder made before its peer is known only queues).</summary>
    public void Start()
    {
        Volatile.Write(ref _started, true);
        StartSending(onCaller: false);
    }

    /// <summary>Queues a message; false when the queue is full (the caller drops a QoS 0 message or waits with <see cref="WaitForRoomAsync"/>).</summary>
    public bool TryEnqueue(ForwardedMessage message)
    {
        if (Interlocked.Increment(ref _count) > _maxQueued)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _queue.Enqueue(message);
        StartSending(onCaller: true);
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
        Task stopped;
        lock (_queue)
        {
            stopped = Volatile.Read(ref _sending) == 0 ? Task.CompletedTask : (_stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        // A sender ends at its next batch, or its send is cancelled: bounded, for a send stuck in the kernel.
        await stopped.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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

    /// <summary>Starts a sender unless one runs (or the forwarder has not started or has stopped).</summary>
    private void StartSending(bool onCaller)
    {
        if (!Volatile.Read(ref _started) || _stop.IsCancellationRequested || _queue.IsEmpty || Interlocked.CompareExchange(ref _sending, 1, 0) != 0)
        {
            return;
        }

        if (onCaller)
        {
            _ = SendAsync(Environment.CurrentManagedThreadId);
        }
        else
        {
            _ = Task.Run(() => SendAsync(callerThread: -1));
        }
    }

    /// <summary>
    /// Sends batches until the queue is empty, holding <see cref="_sending"/> (so it is the only sender) until it
    /// ends or hands over. Started on a publisher's thread, it sends one batch there and hands the rest to the thread
    /// pool. Never faults: a failed send is counted in <see cref="SendBatchAsync"/>, a stop ends it.
    /// </summary>
    private async Task SendAsync(int callerThread)
    {
        var sent = 0;
        try
        {
            while (true)
            {
                while (!_queue.IsEmpty && !_stop.IsCancellationRequested)
                {
                    if (sent > 0 && Environment.CurrentManagedThreadId == callerThread)
                    {
                        // Still on the publisher's thread, which has its own connection to serve: the rest goes on the pool.
                        _ = Task.Run(() => SendAsync(callerThread: -1));
                        return;
                    }

                    await SendBatchAsync().ConfigureAwait(false);
                    sent++;
                }

                if (!Release())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Release();
        }
    }

    /// <summary>Lets go of <see cref="_sending"/>; true when it was taken back at once because more arrived meanwhile.</summary>
    private bool Release()
    {
        Volatile.Write(ref _sending, 0);
        if (_stop.IsCancellationRequested)
        {
            lock (_queue)
            {
                _stopped?.TrySetResult();
            }

            return false;
        }

        return !_queue.IsEmpty && Interlocked.CompareExchange(ref _sending, 1, 0) == 0;
    }

    private async ValueTask SendBatchAsync()
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
