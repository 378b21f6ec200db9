using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Push;

/// <summary>The embedded session store: one lock per device, bounded queues, nothing survives a restart.</summary>
internal sealed class InMemoryMlpSessionStore(IOptions<MlpOptions> options) : IMlpSessionStore
{
    private readonly ConcurrentDictionary<string, DeviceState> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _users = new(StringComparer.Ordinal);
    private readonly int _maxQueued = options.Value.MaxQueuedPushes;
    private long _generation;

    public ValueTask<MlpSessionOpenResult> OpenAsync(string deviceId, string userId, string? resumeSessionId, ulong lastProcessedSequence, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        var state = _devices.GetOrAdd(deviceId, static _ => new DeviceState());
        if (!string.IsNullOrEmpty(userId))
            _users.GetOrAdd(userId, static _ => new(StringComparer.Ordinal)).TryAdd(deviceId, 0);

        lock (state)
        {
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
            return ValueTask.FromResult(new MlpSessionOpenResult(new MlpSessionHandle(deviceId, state.SessionId!, generation), resumed, redeliver));
        }
    }

    public ValueTask<MlpEnqueueOutcome> EnqueueAsync(string deviceId, MlpPushMessage push, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        ArgumentNullException.ThrowIfNull(push);
        var state = _devices.GetOrAdd(deviceId, static _ => new DeviceState());
        lock (state)
        {
            var outcome = MlpEnqueueOutcome.Queued;
            if (state.Unacked.Count + state.Pending.Count >= _maxQueued)
            {
                // Only waiting pushes may go: dropping a numbered one would leave a gap in the sequence.
                if (state.Pending.Count == 0)
                    return ValueTask.FromResult(MlpEnqueueOutcome.Rejected);
                state.Pending.RemoveFirst();
                outcome = MlpEnqueueOutcome.QueuedDroppedOldest;
            }

            state.Pending.AddLast(push);
            return ValueTask.FromResult(outcome);
        }
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
            return ValueTask.FromResult(string.Equals(state.SessionId, session.SessionId, StringComparison.Ordinal) ? RemoveAcknowledged(state, sequence) : 0);
        }
    }

    public ValueTask<IReadOnlyList<string>> GetUserDevicesAsync(string userId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>(_users.TryGetValue(userId, out var devices) ? [.. devices.Keys] : []);

    public ValueTask<int> CountAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        if (!_devices.TryGetValue(deviceId, out var state))
            return ValueTask.FromResult(0);
        lock (state)
        {
            return ValueTask.FromResult(state.Unacked.Count + state.Pending.Count);
        }
    }

    private static int RemoveAcknowledged(DeviceState state, ulong sequence)
    {
        var count = 0;
        while (count < state.Unacked.Count && state.Unacked[count].Sequence <= sequence)
            count++;
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
        public readonly List<(ulong Sequence, MlpPushMessage Message)> Unacked = [];
        public readonly LinkedList<MlpPushMessage> Pending = new();
    }
}
