using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Push;

/// <summary>
/// The embedded session store: one lock per device, nothing survives a restart. Bounded: pushes per
/// device by count (<c>Mlp:MaxQueuedPushes</c>) and bytes (<c>Mlp:MaxQueuedPushBytes</c>), bytes of the
/// whole store (<c>Mlp:MaxPushStoreBytes</c>), devices (<c>Mlp:MaxPushDevices</c>, checked when a push
/// names an unknown device), and time (<see cref="Expire"/> drops pushes of offline devices older than
/// <c>Mlp:PushExpiry</c> and forgets offline devices idle that long).
/// </summary>
internal sealed class InMemoryMlpSessionStore(IOptions<MlpOptions> options, TimeProvider time) : IMlpSessionStore
{
    private readonly ConcurrentDictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserDevices> _users = new(StringComparer.Ordinal);
    private readonly int _maxQueued = options.Value.MaxQueuedPushes;
    private readonly long _maxDeviceBytes = options.Value.MaxQueuedPushBytes;
    private readonly long _maxStoreBytes = options.Value.MaxPushStoreBytes;
    private readonly int _maxDevices = options.Value.MaxPushDevices;
    private readonly TimeSpan _expiry = options.Value.PushExpiry;
    private long _generation;
    private long _bytes;
    private int _deviceCount;

    /// <summary>Bytes of pushes held, every device together.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Devices the store keeps state for.</summary>
    public int DeviceCount => Volatile.Read(ref _deviceCount);

    public ValueTask<MlpSessionOpenResult> OpenAsync(string deviceId, string userId, string? resumeSessionId, ulong lastProcessedSequence, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        userId ??= string.Empty;

        // A connecting device always gets its state (connections are bounded by governance, not here).
        while (true)
        {
            var state = GetOrCreate(deviceId, limited: false)!;
            lock (state)
            {
                if (state.Removed)
                    continue;
                if (state.SessionId is not null && !string.Equals(state.UserId, userId, StringComparison.Ordinal))
                    ChangeUser(deviceId, state, userId);
                else if (state.SessionId is null && userId.Length > 0)
                    AddToUser(userId, deviceId);

                var generation = Interlocked.Increment(ref _generation);
                var resumed = resumeSessionId is not null && string.Equals(state.SessionId, resumeSessionId, StringComparison.Ordinal)
                    && string.Equals(state.UserId, userId, StringComparison.Ordinal);
                List<MlpSequencedPush> redeliver = [];
                if (resumed)
                {
                    RemoveAcknowledged(state, lastProcessedSequence);
                    foreach (var (sequence, message) in state.Unacked)
                        redeliver.Add(new MlpSequencedPush(sequence, message, Redelivered: true));
                }
                else
                {
                    // A new session numbers from 1 again; what the device never acknowledged is sent again, first.
                    for (var i = state.Unacked.Count - 1; i >= 0; i--)
                        state.Pending.AddFirst(state.Unacked[i].Message);
                    state.Unacked.Clear();
                    state.LastSequence = 0;
                    state.SessionId = NewSessionId();
                    state.UserId = userId;
                }

                state.Generation = generation;
                state.LastActive = time.GetUtcNow();
                return ValueTask.FromResult(new MlpSessionOpenResult(new MlpSessionHandle(deviceId, state.SessionId!, generation), resumed, redeliver));
            }
        }
    }

    public ValueTask<MlpEnqueueOutcome> EnqueueAsync(string deviceId, MlpPushMessage push, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        ArgumentNullException.ThrowIfNull(push);
        while (true)
        {
            var state = GetOrCreate(deviceId, limited: true);
            if (state is null)
                return ValueTask.FromResult(MlpEnqueueOutcome.RejectedTooManyDevices);
            lock (state)
            {
                if (state.Removed)
                    continue;
                return ValueTask.FromResult(Enqueue(state, push));
            }
        }
    }

    private MlpEnqueueOutcome Enqueue(DeviceState state, MlpPushMessage push)
    {
        if (push.Size > _maxDeviceBytes)
            return MlpEnqueueOutcome.Rejected;

        // Only waiting pushes may go: dropping a numbered one would leave a gap in the sequence.
        var outcome = MlpEnqueueOutcome.Queued;
        while (state.Unacked.Count + state.Pending.Count >= _maxQueued || state.Bytes + push.Size > _maxDeviceBytes)
        {
            if (state.Pending.First is not { } oldest)
                return MlpEnqueueOutcome.Rejected;
            state.Pending.RemoveFirst();
            Release(state, oldest.Value.Size);
            outcome = MlpEnqueueOutcome.QueuedDroppedOldest;
        }

        // The store-wide bound never evicts another device's pushes: the new one is refused.
        if (Interlocked.Add(ref _bytes, push.Size) > _maxStoreBytes)
        {
            Interlocked.Add(ref _bytes, -push.Size);
            return MlpEnqueueOutcome.RejectedStoreFull;
        }

        state.Bytes += push.Size;
        state.Pending.AddLast(push);
        return outcome;
    }

    public ValueTask<IReadOnlyList<MlpSequencedPush>> TakeAsync(MlpSessionHandle session, int window, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_devices.TryGetValue(session.DeviceId, out var state))
            return ValueTask.FromResult<IReadOnlyList<MlpSequencedPush>>([]);
        lock (state)
        {
            if (state.Generation != session.Generation || state.Pending.Count == 0 || state.Unacked.Count >= window)
                return ValueTask.FromResult<IReadOnlyList<MlpSequencedPush>>([]);

            var taken = new List<MlpSequencedPush>(Math.Min(window - state.Unacked.Count, state.Pending.Count));
            while (state.Unacked.Count < window && state.Pending.First is { } first)
            {
                state.Pending.RemoveFirst();
                var sequence = ++state.LastSequence;
                state.Unacked.Add((sequence, first.Value));
                taken.Add(new MlpSequencedPush(sequence, first.Value, Redelivered: false));
            }

            return ValueTask.FromResult<IReadOnlyList<MlpSequencedPush>>(taken);
        }
    }

    public ValueTask<int> AcknowledgeAsync(MlpSessionHandle session, ulong sequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_devices.TryGetValue(session.DeviceId, out var state))
            return ValueTask.FromResult(0);
        lock (state)
        {
            if (!string.Equals(state.SessionId, session.SessionId, StringComparison.Ordinal))
                return ValueTask.FromResult(0);
            state.LastActive = time.GetUtcNow();
            return ValueTask.FromResult(RemoveAcknowledged(state, sequence));
        }
    }

    public ValueTask<IReadOnlyList<string>> GetUserDevicesAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (!_users.TryGetValue(userId, out var devices))
            return ValueTask.FromResult<IReadOnlyList<string>>([]);
        lock (devices)
        {
            return ValueTask.FromResult<IReadOnlyList<string>>([.. devices.Set]);
        }
    }

    public ValueTask<int> CountAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        if (!_devices.TryGetValue(deviceId, out var state))
            return ValueTask.FromResult(0);
        lock (state)
        {
            return ValueTask.FromResult(state.Unacked.Count + state.Pending.Count);
        }
    }

    /// <summary>
    /// Drops the pushes of offline devices accepted more than <c>Mlp:PushExpiry</c> ago and forgets offline
    /// devices that hold nothing and were last active that long ago (their session cannot be resumed).
    /// Returns how many pushes were dropped.
    /// </summary>
    public int Expire(Func<string, bool> isConnected)
    {
        ArgumentNullException.ThrowIfNull(isConnected);
        var now = time.GetUtcNow();
        var cutoff = now - _expiry;
        var dropped = 0;
        foreach (var (deviceId, state) in _devices)
        {
            if (isConnected(deviceId))
                continue;
            lock (state)
            {
                if (state.Removed)
                    continue;
                dropped += state.Unacked.RemoveAll(entry =>
                {
                    if (entry.Message.AcceptedAt > cutoff)
                        return false;
                    Release(state, entry.Message.Size);
                    return true;
                });
                for (var node = state.Pending.First; node is not null;)
                {
                    var next = node.Next;
                    if (node.Value.AcceptedAt <= cutoff)
                    {
                        state.Pending.Remove(node);
                        Release(state, node.Value.Size);
                        dropped++;
                    }

                    node = next;
                }

                if (state.Pending.Count == 0 && state.Unacked.Count == 0 && state.LastActive <= cutoff
                    && _devices.TryRemove(new KeyValuePair<string, DeviceState>(deviceId, state)))
                {
                    state.Removed = true;
                    Interlocked.Decrement(ref _deviceCount);
                    if (state.SessionId is not null && state.UserId.Length > 0)
                        RemoveFromUser(state.UserId, deviceId);
                }
            }
        }

        return dropped;
    }

    /// <summary>
    /// Takes the device's session out of this store (a fleet takeover or the device going offline in a fleet):
    /// what it holds leaves with it. Null when the store holds nothing for the device.
    /// </summary>
    public MlpSessionSnapshot? Export(string deviceId)
    {
        if (!_devices.TryGetValue(deviceId, out var state))
            return null;
        lock (state)
        {
            if (state.Removed || !_devices.TryRemove(new KeyValuePair<string, DeviceState>(deviceId, state)))
                return null;
            state.Removed = true;
            Interlocked.Decrement(ref _deviceCount);
            Interlocked.Add(ref _bytes, -state.Bytes);
            if (state.SessionId is not null && state.UserId.Length > 0)
                RemoveFromUser(state.UserId, deviceId);
            return new MlpSessionSnapshot(state.SessionId, state.UserId, state.LastSequence, [.. state.Unacked], [.. state.Pending]);
        }
    }

    /// <summary>
    /// Brings a session from another node (or Redis) into this store, then <paramref name="pushes"/> after it.
    /// When the device has no session here yet the snapshot becomes its session (a resume continues its
    /// sequence); otherwise what it held joins the waiting pushes, to be numbered afresh. Bounds apply to the
    /// waiting pushes as for <see cref="EnqueueAsync"/>; returns how many were dropped.
    /// </summary>
    public int Import(string deviceId, MlpSessionSnapshot? session, IReadOnlyList<MlpPushMessage> pushes)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        ArgumentNullException.ThrowIfNull(pushes);
        while (true)
        {
            var state = GetOrCreate(deviceId, limited: false)!;
            lock (state)
            {
                if (state.Removed)
                    continue;
                var dropped = 0;
                if (session is not null)
                {
                    if (session.SessionId is not null && state.SessionId is null && state.Unacked.Count == 0 && state.Pending.Count == 0)
                    {
                        state.SessionId = session.SessionId;
                        state.UserId = session.UserId;
                        state.LastSequence = session.LastSequence;
                        if (state.UserId.Length > 0)
                            AddToUser(state.UserId, deviceId);
                        // Numbered pushes are never dropped (a gap in the sequence): they count against the bounds as they are.
                        foreach (var unacked in session.Unacked)
                        {
                            state.Unacked.Add(unacked);
                            state.Bytes += unacked.Message.Size;
                            Interlocked.Add(ref _bytes, unacked.Message.Size);
                        }

                        foreach (var pending in session.Pending)
                            dropped += Enqueue(state, pending) == MlpEnqueueOutcome.Queued ? 0 : 1;
                    }
                    else
                    {
                        foreach (var push in session.AllPushes)
                            dropped += Enqueue(state, push) == MlpEnqueueOutcome.Queued ? 0 : 1;
                    }
                }

                foreach (var push in pushes)
                    dropped += Enqueue(state, push) == MlpEnqueueOutcome.Queued ? 0 : 1;
                state.LastActive = time.GetUtcNow();
                return dropped;
            }
        }
    }

    /// <summary>The device's state, created when missing; null when <paramref name="limited"/> and the device cap is reached.</summary>
    private DeviceState? GetOrCreate(string deviceId, bool limited)
    {
        if (_devices.TryGetValue(deviceId, out var existing))
            return existing;
        if (Interlocked.Increment(ref _deviceCount) > _maxDevices && limited)
        {
            Interlocked.Decrement(ref _deviceCount);
            return null;
        }

        var created = new DeviceState { LastActive = time.GetUtcNow() };
        var state = _devices.GetOrAdd(deviceId, created);
        if (!ReferenceEquals(state, created))
            Interlocked.Decrement(ref _deviceCount);
        return state;
    }

    /// <summary>
    /// The device logged in as another user: it leaves the old user's devices, and what was addressed to
    /// the old user (waiting or sent-unacknowledged) is dropped; pushes addressed to the device stay.
    /// </summary>
    private void ChangeUser(string deviceId, DeviceState state, string userId)
    {
        if (state.UserId.Length > 0)
            RemoveFromUser(state.UserId, deviceId);
        if (userId.Length > 0)
            AddToUser(userId, deviceId);
        state.Unacked.RemoveAll(entry => NotFor(state, entry.Message, userId));
        for (var node = state.Pending.First; node is not null;)
        {
            var next = node.Next;
            if (NotFor(state, node.Value, userId))
                state.Pending.Remove(node);
            node = next;
        }
    }

    private bool NotFor(DeviceState state, MlpPushMessage message, string userId)
    {
        if (message.UserId is null || string.Equals(message.UserId, userId, StringComparison.Ordinal))
            return false;
        Release(state, message.Size);
        return true;
    }

    private void Release(DeviceState state, long size)
    {
        state.Bytes -= size;
        Interlocked.Add(ref _bytes, -size);
    }

    private void AddToUser(string userId, string deviceId)
    {
        while (true)
        {
            var devices = _users.GetOrAdd(userId, static _ => new UserDevices());
            lock (devices)
            {
                if (devices.Removed)
                    continue;
                devices.Set.Add(deviceId);
                return;
            }
        }
    }

    private void RemoveFromUser(string userId, string deviceId)
    {
        if (!_users.TryGetValue(userId, out var devices))
            return;
        lock (devices)
        {
            // An empty set goes, so users who have no device left cost nothing.
            if (devices.Set.Remove(deviceId) && devices.Set.Count == 0 && _users.TryRemove(new KeyValuePair<string, UserDevices>(userId, devices)))
                devices.Removed = true;
        }
    }

    private int RemoveAcknowledged(DeviceState state, ulong sequence)
    {
        var count = 0;
        while (count < state.Unacked.Count && state.Unacked[count].Sequence <= sequence)
        {
            Release(state, state.Unacked[count].Message.Size);
            count++;
        }

        state.Unacked.RemoveRange(0, count);
        return count;
    }

    private static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private sealed class DeviceState
    {
        public string? SessionId;
        public string UserId = string.Empty;
        public long Generation;
        public ulong LastSequence;
        public long Bytes;
        public DateTimeOffset LastActive;
        public bool Removed;
        public readonly List<(ulong Sequence, MlpPushMessage Message)> Unacked = [];
        public readonly LinkedList<MlpPushMessage> Pending = new();
    }

    private sealed class UserDevices
    {
        public readonly HashSet<string> Set = new(StringComparer.Ordinal);
        public bool Removed;
    }
}
