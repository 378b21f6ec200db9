using System.Collections.Concurrent;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Routing;
using Microsoft.Extensions.Options;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// The one-node session store: a concurrent map of <see cref="SessionRecord"/>s, each guarded
/// by its own lock, and a heap of deadlines (will due, session expiry) swept by
/// <see cref="RemoveExpiredAsync"/>, so a sweep costs what is due rather than a scan of every session.
/// </summary>
/// <remarks>
/// A reconnect does not search the heap: it bumps the record's deadline version, and the
/// stale entry is dropped when it falls due.
/// </remarks>
internal sealed class InMemorySessionStore : ISessionStore
{
    private readonly ChainedTable<SessionRecord> _sessions = new();
    private readonly PriorityQueue<(string ClientId, long Version), DateTimeOffset> _deadlines = new();
    private readonly Lock _deadlineLock = new();
    private readonly TimeProvider _time;
    private readonly IDeliveryAcknowledgements? _acknowledgements;
    private readonly SessionsOptions _options;
    private long _lastEpoch;
    private int _count;

    public InMemorySessionStore(IOptions<SessionsOptions> options, TimeProvider time, IDeliveryAcknowledgements? acknowledgements = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Value;
        _time = time;
        _acknowledgements = acknowledgements;
    }

    /// <summary>Sessions held, connected or not.</summary>
    public int Count => Volatile.Read(ref _count);

    public ValueTask<SessionOpenResult> OpenAsync(SessionConnectRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.ClientId);
        DateTimeOffset now = _time.GetUtcNow();
        while (true)
        {
            if (!_sessions.TryGetValue(request.ClientId, out SessionRecord? record))
            {
                // Only a new client id counts against the bound: resuming or taking over never fails for it.
                int max = _options.MaxSessions;
                if (Interlocked.Increment(ref _count) > max && max > 0)
                {
                    Interlocked.Decrement(ref _count);
                    return new ValueTask<SessionOpenResult>(SessionOpenResult.SessionLimitReached);
                }

                var created = new SessionRecord(request.ClientId);
                record = _sessions.GetOrAdd(created);
                if (!ReferenceEquals(record, created))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            lock (record)
            {
                if (!record.Removed)
                {
                    return new ValueTask<SessionOpenResult>(OpenLocked(record, request, now));
                }
            }
        }
    }

    public ValueTask<SessionDisconnectResult> DisconnectAsync(SessionToken token, bool publishWill, uint? sessionExpiryInterval = null, CancellationToken cancellationToken = default)
    {
        if (!_sessions.TryGetValue(token.ClientId, out SessionRecord? record))
        {
            return new ValueTask<SessionDisconnectResult>(SessionDisconnectResult.NotApplied);
        }

        lock (record)
        {
            if (record.Removed || record.Epoch != token.Epoch || !record.Connected)
            {
                return new ValueTask<SessionDisconnectResult>(SessionDisconnectResult.NotApplied);
            }

            DateTimeOffset now = _time.GetUtcNow();
            if (sessionExpiryInterval is uint interval)
            {
                record.ExpiryInterval = interval;
            }

            record.Connected = false;
            record.DisconnectedAt = now;
            if (!publishWill)
            {
                record.Will = null;
            }

            if (record.ExpiryInterval == SessionExpiry.AtDisconnect)
            {
                // The session ends now, which ends any will delay too (3.1.3.2.2).
                MqttApplicationMessage? will = record.Will?.Message;
                EndLocked(record);
                return new ValueTask<SessionDisconnectResult>(new SessionDisconnectResult(true, true, will));
            }

            MqttApplicationMessage? dueNow = null;
            if (record.Will is { DelayInterval: 0 } immediate)
            {
                dueNow = immediate.Message;
                record.Will = null;
            }

            record.ExpiresAt = After(now, record.ExpiryInterval);
            if (record.Will is { } delayed)
            {
                DateTimeOffset due = now.AddSeconds(delayed.DelayInterval);
                record.WillDueAt = due < record.ExpiresAt ? due : record.ExpiresAt;
            }

            ScheduleLocked(record);
            return new ValueTask<SessionDisconnectResult>(new SessionDisconnectResult(true, false, dueNow));
        }
    }

    public ValueTask<SessionExpiryResult> RemoveExpiredAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = _time.GetUtcNow();
        List<(string ClientId, long Version)>? due = null;
        lock (_deadlineLock)
        {
            while (_deadlines.TryPeek(out (string ClientId, long Version) entry, out DateTimeOffset at) && at <= now)
            {
                _deadlines.Dequeue();
                (due ??= []).Add(entry);
            }
        }

        if (due is null)
        {
            return new ValueTask<SessionExpiryResult>(SessionExpiryResult.Empty);
        }

        List<string> expired = [];
        List<MqttApplicationMessage> wills = [];
        foreach ((string clientId, long version) in due)
        {
            if (!_sessions.TryGetValue(clientId, out SessionRecord? record))
            {
                continue;
            }

            lock (record)
            {
                if (record.Removed || record.Connected || record.DeadlineVersion != version)
                {
                    continue;
                }

                if (record.Will is { } will && now >= record.WillDueAt)
                {
                    wills.Add(will.Message);
                    record.Will = null;
                    record.WillDueAt = DateTimeOffset.MaxValue;
                }

                if (now >= record.ExpiresAt)
                {
                    expired.Add(clientId);
                    EndLocked(record);
                }
                else
                {
                    ScheduleLocked(record);
                }
            }
        }

        return new ValueTask<SessionExpiryResult>(expired.Count == 0 && wills.Count == 0 ? SessionExpiryResult.Empty : new SessionExpiryResult(expired, wills));
    }

    public ValueTask<bool> RemoveAsync(string clientId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!_sessions.TryGetValue(clientId, out SessionRecord? record))
        {
            return new ValueTask<bool>(false);
        }

        lock (record)
        {
            if (record.Removed || !record.Initialized)
            {
                return new ValueTask<bool>(false);
            }

            EndLocked(record);
            return new ValueTask<bool>(true);
        }
    }

    public ValueTask<SessionState?> GetAsync(string clientId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!_sessions.TryGetValue(clientId, out SessionRecord? record))
        {
            return new ValueTask<SessionState?>((SessionState?)null);
        }

        lock (record)
        {
            if (record.Removed || !record.Initialized)
            {
                return new ValueTask<SessionState?>((SessionState?)null);
            }

            return new ValueTask<SessionState?>(Snapshot(record));
        }
    }

    public ValueTask SetSubscriptionAsync(SessionToken token, Subscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            (record.Subscriptions ??= new Dictionary<string, SubscriptionOptions>(StringComparer.Ordinal))[subscription.TopicFilter] = subscription.Options;
        }

        return default;
    }

    public ValueTask<bool> HasRoomForSubscriptionAsync(SessionToken token, string topicFilter, int maxSubscriptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        if (maxSubscriptions <= 0)
        {
            return new ValueTask<bool>(true);
        }

        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            Dictionary<string, SubscriptionOptions>? subscriptions = record.Subscriptions;
            return new ValueTask<bool>(subscriptions is null || subscriptions.Count < maxSubscriptions || subscriptions.ContainsKey(topicFilter));
        }
    }

    public ValueTask<bool> RemoveSubscriptionAsync(SessionToken token, string topicFilter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            return new ValueTask<bool>(record.Subscriptions?.Remove(topicFilter) ?? false);
        }
    }

    public ValueTask<ushort> AddInflightAsync(SessionToken token, MessageDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        OutgoingState state = delivery.QualityOfService switch
        {
            MqttQualityOfService.AtLeastOnce => OutgoingState.AwaitingPubAck,
            MqttQualityOfService.ExactlyOnce => OutgoingState.AwaitingPubRec,
            _ => throw new ArgumentException("Only QoS 1 and 2 deliveries are acknowledged and tracked inflight.", nameof(delivery)),
        };

        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            Dictionary<ushort, (long, InflightMessage)> inflight = record.Inflight ??= [];
            if (inflight.Count >= _options.MaxInflightMessages)
            {
                return new ValueTask<ushort>((ushort)0);
            }

            // Cycle through 1..65535 skipping ids still in use; terminates because fewer than 65535 are in use.
            ushort id = record.LastPacketId;
            do
            {
                id = id == ushort.MaxValue ? (ushort)1 : (ushort)(id + 1);
            }
            while (inflight.ContainsKey(id));

            record.LastPacketId = id;
            inflight.Add(id, (++record.InflightSequence, new InflightMessage(id, delivery, state, _time.GetUtcNow())));
            return new ValueTask<ushort>(id);
        }
    }

    public ValueTask<bool> SetInflightStateAsync(SessionToken token, ushort packetId, OutgoingState state, CancellationToken cancellationToken = default)
    {
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown outgoing state.");
        }

        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            if (record.Inflight is null || !record.Inflight.TryGetValue(packetId, out (long Sequence, InflightMessage Message) entry))
            {
                return new ValueTask<bool>(false);
            }

            record.Inflight[packetId] = (entry.Sequence, entry.Message with { State = state });
            return new ValueTask<bool>(true);
        }
    }

    public ValueTask<bool> RemoveInflightAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default)
    {
        SessionRecord record = Owned(token);
        (long, InflightMessage) removed;
        lock (record)
        {
            EnsureOwner(record, token);
            if (record.Inflight is null || !record.Inflight.Remove(packetId, out removed))
            {
                return new ValueTask<bool>(false);
            }
        }

        _acknowledgements?.Acknowledged(token.ClientId, removed.Item2.Delivery);
        return new ValueTask<bool>(true);
    }

    public ValueTask<bool> AddIncomingAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default)
    {
        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            return new ValueTask<bool>((record.Incoming ??= []).Add(packetId));
        }
    }

    public ValueTask<bool> ReleaseIncomingAsync(SessionToken token, ushort packetId, CancellationToken cancellationToken = default)
    {
        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            return new ValueTask<bool>(record.Incoming?.Remove(packetId) ?? false);
        }
    }

    public ValueTask<EnqueueResult> EnqueueAsync(string clientId, MessageDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(delivery);
        if (!_sessions.TryGetValue(clientId, out SessionRecord? record))
        {
            return new ValueTask<EnqueueResult>(new EnqueueResult(EnqueueOutcome.NoSession));
        }

        lock (record)
        {
            if (record.Removed || !record.Initialized)
            {
                return new ValueTask<EnqueueResult>(new EnqueueResult(EnqueueOutcome.NoSession));
            }

            record.Queue ??= new OfflineQueue(_options.MaxQueuedMessagesPerSession, _options.QueueDropPolicy, _options.QueueQos0Messages, _options.MaxQueuedBytesPerSession);
            return new ValueTask<EnqueueResult>(record.Queue.Enqueue(delivery, _time.GetUtcNow()));
        }
    }

    public ValueTask<DequeueResult> DequeueAsync(SessionToken token, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        SessionRecord record = Owned(token);
        lock (record)
        {
            EnsureOwner(record, token);
            if (record.Queue is not { Count: > 0 } queue || maxCount == 0)
            {
                return new ValueTask<DequeueResult>(DequeueResult.Empty);
            }

            var taken = new List<DequeuedMessage>(Math.Min(maxCount, queue.Count));
            int expired = queue.Dequeue(maxCount, _time.GetUtcNow(), taken);
            return new ValueTask<DequeueResult>(new DequeueResult(taken, expired));
        }
    }

    private SessionOpenResult OpenLocked(SessionRecord record, SessionConnectRequest request, DateTimeOffset now)
    {
        bool present = false;
        SessionToken? takenOver = null;
        string? takenOverNode = null;
        MqttApplicationMessage? willToPublish = null;
        if (record.Initialized)
        {
            if (!string.Equals(record.Owner, request.Owner, StringComparison.Ordinal) && (record.Connected || now < record.ExpiresAt))
            {
                // Another identity's live or still-kept session: neither taken over nor discarded (not even by Clean Start).
                return SessionOpenResult.Refused(record.ClientId);
            }

            bool ends;
            if (record.Connected)
            {
                // 3.1.4: the old connection is closed by the server; its will goes out when its
                // delay is 0 or its session ends (expiry 0, or this Clean Start discards it).
                takenOver = new SessionToken(record.ClientId, record.Epoch);
                takenOverNode = record.NodeId;
                ends = request.CleanStart || record.ExpiryInterval == SessionExpiry.AtDisconnect;
                if (record.Will is { } will && (ends || will.DelayInterval == 0))
                {
                    willToPublish = will.Message;
                }
            }
            else
            {
                // Disconnected: a will still pending is cancelled by this reconnect (3.1.3.2.2),
                // unless the session ends now or the sweep simply has not run since it fell due.
                ends = request.CleanStart || now >= record.ExpiresAt;
                if (record.Will is { } will && (ends || now >= record.WillDueAt))
                {
                    willToPublish = will.Message;
                }
            }

            present = !ends;
            if (ends)
            {
                record.ResetState();
            }
        }

        record.Initialized = true;
        record.Epoch = Interlocked.Increment(ref _lastEpoch);
        record.Connected = true;
        record.SetHolder(request.Owner, request.NodeId);
        record.ExpiryInterval = request.SessionExpiryInterval;
        record.DisconnectedAt = null;
        record.ExpiresAt = DateTimeOffset.MaxValue;
        record.Will = request.Will;
        record.WillDueAt = DateTimeOffset.MaxValue;
        record.DeadlineVersion++;
        return new SessionOpenResult(new SessionToken(record.ClientId, record.Epoch), present, takenOver, takenOverNode, willToPublish);
    }

    private void EndLocked(SessionRecord record)
    {
        record.Removed = true;
        record.ResetState();
        if (_sessions.TryRemove(record))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void ScheduleLocked(SessionRecord record)
    {
        long version = ++record.DeadlineVersion;
        DateTimeOffset next = record.Will is not null ? record.WillDueAt : record.ExpiresAt;
        if (next == DateTimeOffset.MaxValue)
        {
            return;
        }

        lock (_deadlineLock)
        {
            _deadlines.Enqueue((record.ClientId, version), next);
        }
    }

    private SessionRecord Owned(SessionToken token)
    {
        ArgumentNullException.ThrowIfNull(token.ClientId, nameof(token));
        return _sessions.TryGetValue(token.ClientId, out SessionRecord? record)
            ? record
            : throw new SessionTakenOverException(token.ClientId);
    }

    private static void EnsureOwner(SessionRecord record, SessionToken token)
    {
        if (record.Removed || record.Epoch != token.Epoch)
        {
            throw new SessionTakenOverException(token.ClientId);
        }
    }

    private static DateTimeOffset After(DateTimeOffset now, uint seconds) =>
        seconds == SessionExpiry.Never ? DateTimeOffset.MaxValue : now.AddSeconds(seconds);

    private static SessionState Snapshot(SessionRecord record)
    {
        var subscriptions = new List<Subscription>(record.Subscriptions?.Count ?? 0);
        if (record.Subscriptions is not null)
        {
            foreach (KeyValuePair<string, SubscriptionOptions> pair in record.Subscriptions)
            {
                subscriptions.Add(new Subscription(pair.Key, pair.Value));
            }
        }

        var inflight = new List<(long Sequence, InflightMessage Message)>(record.Inflight?.Values ?? Enumerable.Empty<(long, InflightMessage)>());
        inflight.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        var inflightMessages = new InflightMessage[inflight.Count];
        for (int i = 0; i < inflight.Count; i++)
        {
            inflightMessages[i] = inflight[i].Message;
        }

        ushort[] incoming = record.Incoming is null ? [] : [.. record.Incoming];
        Array.Sort(incoming);
        return new SessionState
        {
            ClientId = record.ClientId,
            Epoch = record.Epoch,
            IsConnected = record.Connected,
            NodeId = record.NodeId,
            Owner = record.Owner,
            SessionExpiryInterval = record.ExpiryInterval,
            DisconnectedAt = record.DisconnectedAt,
            Subscriptions = subscriptions,
            Inflight = inflightMessages,
            IncomingAwaitingRelease = incoming,
            Will = record.Will,
            QueuedMessageCount = record.Queue?.Count ?? 0,
        };
    }
}
