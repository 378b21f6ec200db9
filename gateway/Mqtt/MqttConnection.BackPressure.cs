using AccessLayer.Sessions.Queue;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// Publisher back-pressure, both sides of it. As a subscriber, a connection is <em>pressing</em>
/// while its writer is past the high watermark: half of <c>Mqtt:MaxOutboundQueue</c> packets, half
/// of <c>Limits:MaxOutboundQueueBytes</c>, or (estimated) half of <c>Mqtt:MaxQueuedMessages</c>
/// QoS 1/2 messages waiting in its session queue. As a publisher, a connection whose PUBLISH was
/// routed to a pressing subscriber stops reading (TCP pushes back to the client) until that
/// subscriber's writer drains to the low watermark (a quarter of each bound) or
/// <c>Limits:PublisherBackPressureWait</c> expires. An expired wait waives the pressure of that
/// subscriber until it drains to the low watermark, for one wait at first, doubling each time it
/// is waived again without having drained, up to <see cref="MaxWaiverWaits"/> waits. A subscriber
/// stalled for a moment costs one wait of drops; a stuck or very slow one (a weak mobile link)
/// cannot pace its publishers: they pay one wait in seventeen, and the usual drop and
/// slow-consumer eviction apply to it. No lock is
/// held while waiting, and every publisher waiting on one subscriber shares one signal, so they
/// all resume at once.
/// </summary>
internal sealed partial class MqttConnection
{
    // Subscriber side. The relief signal (Rare) is created by the first waiting publisher and
    // completed (and cleared) by the writer at the low watermark, or when the connection stops writing.
    private int _sessionPending;

    // Publisher side (Rare.PressuredBy, Rare.PausedSince) is owned by the read loop.

    /// <summary>Timestamp at which the read loop paused for a pressing subscriber; 0 while reading. Keep alive is not checked meanwhile.</summary>
    public long PausedSince => _rare is { } rare ? Volatile.Read(ref rare.PausedSince) : 0;

    /// <summary>QoS 1/2 messages this live connection is estimated to have in its session queue.</summary>
    public int SessionQueueEstimate => Math.Max(0, Volatile.Read(ref _sessionPending));

    /// <summary>The writer is past its high watermark, no publisher's wait on it has expired since it last drained, and it is not being closed.</summary>
    public bool IsPressing =>
        !IsPressureWaived
        && !IsGoingAway
        && (QueuedCount >= _options.MaxOutboundQueue / 2
            || QueuedBytes >= _broker.Limits.MaxOutboundQueueBytes / 2
            || Volatile.Read(ref _sessionPending) >= _options.MaxQueuedMessages / 2);

    /// <summary>A QoS 0 delivery would be dropped: checked before the message is copied (<see cref="Send"/> checks again under the lock).</summary>
    public bool IsOutboundFull =>
        QueuedCount >= _options.MaxOutboundQueue
        || QueuedBytes >= _broker.Limits.MaxOutboundQueueBytes;

    /// <summary>The longest waiver, in waits: a subscriber waived again and again is waited for one wait in seventeen.</summary>
    private const int MaxWaiverWaits = 16;

    private bool IsPressureWaived => _rare is { } rare && Volatile.Read(ref rare.PressureWaivedUntil) is var until && until != 0 && _time.GetTimestamp() < until;

    /// <summary>Publishers wait on this connection, or its pressure is waived: the writer checks the low watermark.</summary>
    private bool HasPressureState => _rare is { } rare && (Volatile.Read(ref rare.RelievedSignal) is not null || Volatile.Read(ref rare.PressureWaivedUntil) != 0);

    private bool IsBelowLowWatermark =>
        QueuedCount <= _options.MaxOutboundQueue / 4
        && QueuedBytes <= _broker.Limits.MaxOutboundQueueBytes / 4
        && Volatile.Read(ref _sessionPending) <= _options.MaxQueuedMessages / 4;

    /// <summary>Counts a QoS 0 delivery refused before it was copied, as <see cref="Send"/> would have.</summary>
    public void DropDelivery()
    {
        MarkBehind();
        _broker.Metrics.Dropped("slow_consumer");
    }

    /// <summary>Called by the broker after it queued a QoS 1/2 delivery for this live connection in its session.</summary>
    public void OnSessionEnqueued(in EnqueueResult result) =>
        Interlocked.Add(ref _sessionPending, (result.IsQueued ? 1 : 0) - result.DroppedCount - result.ExpiredCount);

    /// <summary>The writer took <paramref name="count"/> messages out of the session queue; <paramref name="empty"/> when it found it empty.</summary>
    private void OnSessionDequeued(int count, bool empty)
    {
        if (empty)
        {
            Volatile.Write(ref _sessionPending, 0);
        }
        else if (count != 0 && Interlocked.Add(ref _sessionPending, -count) is var left && left < 0)
        {
            // Messages queued while the client was offline were never counted here.
            Interlocked.CompareExchange(ref _sessionPending, 0, left);
        }

        if (HasPressureState)
        {
            lock (OutLock)
            {
                RelieveIfDrained();
            }
        }
    }

    /// <summary>Under <see cref="OutLock"/>, by the writer: wakes waiting publishers once the low watermark is reached.</summary>
    private void RelieveIfDrained()
    {
        if (HasPressureState && IsBelowLowWatermark)
        {
            Relieve();
        }
    }

    /// <summary>Under <see cref="OutLock"/>: wakes every waiting publisher and makes the pressure count again.</summary>
    private void Relieve()
    {
        if (_rare is not { } rare)
        {
            return;
        }

        Volatile.Write(ref rare.PressureWaivedUntil, 0);
        Volatile.Write(ref rare.WaiverWaits, 0);
        rare.RelievedSignal?.TrySetResult();
        rare.RelievedSignal = null;
    }

    /// <summary>Completes when the writer is at its low watermark (at once if it is, or if the connection is closing).</summary>
    private Task WhenRelieved()
    {
        lock (OutLock)
        {
            if (WritesClosed || IsGoingAway || IsBelowLowWatermark)
            {
                return Task.CompletedTask;
            }

            var rare = Rare;
            rare.RelievedSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return rare.RelievedSignal.Task;
        }
    }

    /// <summary>
    /// Called by the broker while routing this connection's PUBLISH to <paramref name="target"/>:
    /// remembers the first pressing subscriber, for the read loop to wait on after the packet.
    /// </summary>
    public void NotePressureFrom(MqttConnection target)
    {
        if (_rare?.PressuredBy is null && !ReferenceEquals(target, this) && target.IsPressing && _broker.Limits.PublisherBackPressureWait > TimeSpan.Zero)
        {
            Rare.PressuredBy = target;
        }
    }

    /// <summary>After a packet: waits (bounded, without a thread) for the subscriber it pressed on, if any.</summary>
    private ValueTask YieldToPressureAsync()
    {
        if (_rare is not { PressuredBy: { } target } rare)
        {
            return ValueTask.CompletedTask;
        }

        rare.PressuredBy = null;
        return WaitForReliefAsync(target);
    }

    private async ValueTask WaitForReliefAsync(MqttConnection target)
    {
        var relieved = target.WhenRelieved();
        if (relieved.IsCompleted)
        {
            return;
        }

        var started = _time.GetTimestamp();
        var rare = Rare;
        // The bounded wait's timer exists before the pause is visible (maintenance, a fake clock's test).
        var waiting = target.WaitForReliefAsync(relieved);
        Volatile.Write(ref rare.PausedSince, started);
        await waiting.ConfigureAwait(false);

        // We stopped reading, not the client: the pause does not count against its keep alive.
        Volatile.Write(ref _lastPacketTimestamp, _time.GetTimestamp());
        Volatile.Write(ref rare.PausedSince, 0);
    }

    /// <summary>
    /// As a subscriber: waits until this connection's writer is at its low watermark, at most
    /// <c>Limits:PublisherBackPressureWait</c>, for a publisher or for a batch of publishes a fleet peer
    /// forwarded. A wait that expires waives this subscriber's pressure (see the type's summary).
    /// Returns at once when it is not pressing.
    /// </summary>
    public ValueTask WaitForReliefAsync()
    {
        var relieved = WhenRelieved();
        return relieved.IsCompleted ? ValueTask.CompletedTask : WaitForReliefAsync(relieved);
    }

    private async ValueTask WaitForReliefAsync(Task relieved)
    {
        var started = _time.GetTimestamp();
        await relieved.WaitAsync(_broker.Limits.PublisherBackPressureWait, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var expired = !relieved.IsCompleted;
        var resumed = _time.GetTimestamp();
        if (expired && Rare is var rare && Volatile.Read(ref rare.PressureWaivedUntil) is var until && (until == 0 || resumed >= until))
        {
            // The first waiter to give up waives it, for everyone; the rest find it waived.
            var wait = _broker.Limits.PublisherBackPressureWait;
            var waits = Math.Clamp(2 * Volatile.Read(ref rare.WaiverWaits), 1, MaxWaiverWaits);
            if (Interlocked.CompareExchange(ref rare.PressureWaivedUntil, resumed + (long)(wait.TotalSeconds * waits * _time.TimestampFrequency), until) == until)
            {
                Volatile.Write(ref rare.WaiverWaits, waits);
                MqttLog.BackPressureWaived(_logger, ClientId ?? ConnectionId, wait.TotalMilliseconds, wait.TotalMilliseconds * waits);
            }
        }

        _broker.Metrics.PublisherPaused(_time.GetElapsedTime(started, resumed), expired);
    }
}
