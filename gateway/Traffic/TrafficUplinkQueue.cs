using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Traffic;

/// <summary>Which queue an uplink message joins: one per rule, zone, endpoint group and load-test mark.</summary>
internal readonly record struct TrafficUplinkKey(string Rule, string Zone, string Group, bool LoadTest);

/// <summary>Where a queue's batches go under the table version that last routed to it.</summary>
internal sealed record TrafficUplinkTarget(TrafficTableVersion Version, TrafficUplinkRule Rule, TrafficZone Zone, string[] Endpoints, TrafficService Service)
{
    /// <summary>The zone is in another site: batches go to that site's gateways.</summary>
    public bool Remote => !ReferenceEquals(Zone.Site, Version.Site);
}

/// <summary>
/// One bounded uplink queue and the loop that empties it in batches (docs/traffic.md, "MQTT uplinks"): a batch is sent
/// when it holds its rule's batch size in messages or its batch bytes, or when its first message has waited its rule's
/// linger (each the rule's own <c>batchSize</c>, <c>batchBytes</c>, <c>lingerMs</c>, else <c>Traffic:UplinkBatchSize</c>,
/// <c>Traffic:UplinkBatchBytes</c>, <c>Traffic:UplinkLinger</c>; a table applied later changes them from the next batch). One batch is in flight at a time; a batch that fails (unreachable, timed
/// out, 408, 429, 5xx) is sent again, the same batch under the same id, after a delay that doubles up to
/// <c>Traffic:UplinkRetryDelayMax</c>, until the backend accepts (2xx: its QoS 1 messages are acknowledged) or refuses it
/// (another 4xx: MQTT 5 publishers get 0x80). Messages count against <c>Traffic:UplinkQueueLength</c> and
/// <c>Traffic:UplinkQueueBytes</c> from queued until settled, so memory stays bounded while a backend is down.
/// </summary>
internal sealed class TrafficUplinkQueue
{
    private readonly Lock _gate = new();
    private readonly Queue<TrafficUplinkMessage> _pending = new();
    private readonly TrafficUplinks _owner;
    private readonly TrafficOptions _options;
    private TaskCompletionSource? _waiter;
    private long _pendingBytes;
    private int _held;
    private long _heldBytes;
    private volatile TrafficUplinkTarget _target;

    public TrafficUplinkQueue(TrafficUplinkKey key, TrafficUplinkTarget target, TrafficUplinks owner, TrafficOptions options)
    {
        Key = key;
        _target = target;
        _owner = owner;
        _options = options;
    }

    public TrafficUplinkKey Key { get; }

    /// <summary>Messages held: queued and in flight.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    /// <summary>The table version that last routed a message here (its endpoints are used from the next attempt on).</summary>
    public TrafficUplinkTarget Target
    {
        get => _target;
        set => _target = value;
    }

    /// <summary>The batch size of the rule that last routed here (its <c>batchSize</c>, else <c>Traffic:UplinkBatchSize</c>).</summary>
    public int BatchSize => _target.Rule.Batching.SizeOr(_options);

    /// <summary>The bytes a batch holds at most (the rule's <c>batchBytes</c>, else <c>Traffic:UplinkBatchBytes</c>).</summary>
    public int BatchBytes => _target.Rule.Batching.BytesOr(_options);

    /// <summary>How long a batch's first message waits (the rule's <c>lingerMs</c>, else <c>Traffic:UplinkLinger</c>).</summary>
    public TimeSpan Linger => _target.Rule.Batching.LingerOr(_options);

    /// <summary>Queues <paramref name="message"/>, or false when the queue is at its bound.</summary>
    public bool TryAdd(TrafficUplinkMessage message)
    {
        TaskCompletionSource? waiter;
        var size = message.Size;
        lock (_gate)
        {
            if (_held >= _options.UplinkQueueLength || _heldBytes + size > _options.UplinkQueueBytes)
            {
                return false;
            }

            _pending.Enqueue(message);
            _held++;
            _heldBytes += size;
            _pendingBytes += size;
            waiter = _waiter;
            _waiter = null;
        }

        _owner.Metrics.AddUplinkQueued(1);
        waiter?.TrySetResult();
        return true;
    }

    /// <summary>Sends batches until <paramref name="stopping"/>; what is unsettled then is never acknowledged (the publishers send it again).</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var batch = new List<TrafficUplinkMessage>(Math.Min(BatchSize, 1024));
        while (!stopping.IsCancellationRequested)
        {
            await WaitForBatchAsync(stopping).ConfigureAwait(false);
            Take(batch);
            if (batch.Count == 0)
            {
                continue;
            }

            await DeliverAsync(batch, stopping).ConfigureAwait(false);
            long bytes = 0;
            foreach (var message in batch)
            {
                bytes += message.Size;
            }

            lock (_gate)
            {
                _held -= batch.Count;
                _heldBytes -= bytes;
            }

            _owner.Metrics.AddUplinkQueued(-batch.Count);
            batch.Clear();
        }
    }

    /// <summary>Returns when a batch is due: full (count or bytes), or its first message has lingered long enough.</summary>
    private async Task WaitForBatchAsync(CancellationToken stopping)
    {
        var time = _owner.Time;
        while (true)
        {
            Task wake;
            TimeSpan? remaining = null;
            lock (_gate)
            {
                if (_pending.Count > 0)
                {
                    if (_pending.Count >= BatchSize || _pendingBytes >= BatchBytes)
                    {
                        return;
                    }

                    var linger = Linger;
                    var waited = time.GetElapsedTime(_pending.Peek().ReceivedTimestamp);
                    if (waited >= linger)
                    {
                        return;
                    }

                    remaining = linger - waited;
                }

                _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wake = _waiter.Task;
            }

            try
            {
                await (remaining is { } linger ? wake.WaitAsync(linger, time, stopping) : wake.WaitAsync(stopping)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The first message lingered its time: the batch goes as it is.
                return;
            }
        }
    }

    private void Take(List<TrafficUplinkMessage> batch)
    {
        long bytes = 0;
        var size = BatchSize;
        var maxBytes = BatchBytes;
        lock (_gate)
        {
            while (_pending.TryPeek(out var next) && batch.Count < size && (batch.Count == 0 || bytes + next.Size <= maxBytes))
            {
                batch.Add(_pending.Dequeue());
                bytes += next.Size;
            }

            _pendingBytes -= bytes;
        }
    }

    private async Task DeliverAsync(List<TrafficUplinkMessage> batch, CancellationToken stopping)
    {
        var first = _target;
        var rule = Key.Rule;
        var info = new TrafficUplinkBatchInfo(Guid.NewGuid().ToString("N"), rule, Key.Zone, first.Zone.Site.Name, Key.Group, first.Version.Table.Version, Key.LoadTest);
        var body = TrafficUplinkBatch.Write(info, batch);
        var delay = _options.UplinkRetryDelay;
        var metrics = _owner.Metrics;
        while (true)
        {
            // The endpoints of the table in force now: a table applied while the batch waits moves its next attempt.
            var target = _target;
            var (status, where) = target.Remote
                ? await _owner.Sender.PostToPeerAsync(target.Zone.Site, target.Version.Site.Name, body, info, batch.Count, _options.UplinkTimeout, stopping).ConfigureAwait(false)
                : await _owner.Sender.PostToBackendAsync(target.Endpoints, target.Service.Http2, target.Rule.Operation, body, info, batch.Count, _options.UplinkTimeout, stopping).ConfigureAwait(false);
            if (status is >= 200 and < 300)
            {
                metrics.UplinkBatches.Add(1, TrafficMetrics.Tag("rule", rule), TrafficMetrics.Tag("result", "accepted"));
                metrics.UplinkDelivered.Add(batch.Count, TrafficMetrics.Tag("rule", rule));
                Settle(batch, accepted: true);
                return;
            }

            if (status is >= 400 and < 500 and not 408 and not 429)
            {
                // The backend says this batch will never do: sending it again would block the queue behind it for good.
                metrics.UplinkBatches.Add(1, TrafficMetrics.Tag("rule", rule), TrafficMetrics.Tag("result", "rejected"));
                TrafficLog.UplinkRejected(_owner.Logger, info.BatchId, rule, batch.Count, where, status);
                Settle(batch, accepted: false);
                return;
            }

            metrics.UplinkBatches.Add(1, TrafficMetrics.Tag("rule", rule), TrafficMetrics.Tag("result", "failed"));
            TrafficLog.UplinkFailed(_owner.Logger, info.BatchId, rule, batch.Count, where, status switch { 502 => "unreachable", 504 => "no answer in Traffic:UplinkTimeout", _ => $"status {status}" }, delay);
            await Task.Delay(delay, _owner.Time, stopping).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.UplinkRetryDelayMax.Ticks));
        }
    }

    private void Settle(List<TrafficUplinkMessage> batch, bool accepted)
    {
        var dropped = 0;
        foreach (var message in batch)
        {
            if (message.Qos == MqttQualityOfService.AtLeastOnce)
            {
                message.Publisher.Settle(message.PacketId, accepted);
            }
            else if (!accepted)
            {
                dropped++;
            }
        }

        if (dropped > 0)
        {
            _owner.Metrics.UplinkDropped.Add(dropped, TrafficMetrics.Tag("rule", Key.Rule), TrafficMetrics.Tag("reason", "rejected"));
        }
    }
}
