using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.Options;

namespace AccessLayer.Sessions.Retained;

/// <summary>
/// The one-node retained store: a <see cref="RetainedTopicTree"/> behind a reader-writer lock
/// (matches on SUBSCRIBE share the read side; a retained PUBLISH takes the write side briefly).
/// Bounded as EMQX's retainer is: past <c>Sessions:MaxRetainedMessages</c> existing topics may be
/// replaced but new ones are not retained; past <c>Sessions:MaxRetainedBytes</c> nothing that grows the
/// store is retained. The PUBLISH itself is routed either way.
/// </summary>
internal sealed class InMemoryRetainedMessageStore(TimeProvider time, IOptions<SessionsOptions> options) : IRetainedMessageStore, IDisposable
{
    private readonly int _maxCount = options.Value.MaxRetainedMessages;
    private readonly long _maxBytes = options.Value.MaxRetainedBytes;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly RetainedTopicTree _tree = new();

    public ValueTask<RetainedUpdate> SetAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentException.ThrowIfNullOrEmpty(message.Topic, nameof(message));
        DateTimeOffset now = time.GetUtcNow();
        _lock.EnterWriteLock();
        try
        {
            if (message.Payload.IsEmpty)
            {
                // 3.3.1.3: an empty retained payload removes the retained message and is not itself stored.
                return new ValueTask<RetainedUpdate>(_tree.Remove(message.Topic) ? RetainedUpdate.Deleted : RetainedUpdate.NothingToDelete);
            }

            if (_maxCount > 0 || _maxBytes > 0)
            {
                MqttApplicationMessage? previous = _tree.Get(message.Topic);
                if (previous is null && _maxCount > 0 && _tree.Count >= _maxCount)
                {
                    return new ValueTask<RetainedUpdate>(RetainedUpdate.NotStoredCountLimit);
                }

                long growth = RetainedTopicTree.SizeOf(message) - (previous is null ? 0 : RetainedTopicTree.SizeOf(previous));
                if (_maxBytes > 0 && growth > 0 && _tree.Bytes + growth > _maxBytes)
                {
                    return new ValueTask<RetainedUpdate>(RetainedUpdate.NotStoredBytesLimit);
                }
            }

            return new ValueTask<RetainedUpdate>(_tree.Set(message, now) ? RetainedUpdate.Replaced : RetainedUpdate.Stored);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public ValueTask<IReadOnlyList<RetainedMessage>> MatchAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        DateTimeOffset now = time.GetUtcNow();
        var found = new List<RetainedMessage>();
        _lock.EnterReadLock();
        try
        {
            _tree.Match(topicFilter, now, found);
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return new ValueTask<IReadOnlyList<RetainedMessage>>(found);
    }

    public ValueTask<int> RemoveExpiredAsync(CancellationToken cancellationToken = default)
    {
        DateTimeOffset now = time.GetUtcNow();
        _lock.EnterWriteLock();
        try
        {
            return new ValueTask<int>(_tree.RemoveExpired(now));
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        _lock.EnterReadLock();
        try
        {
            return new ValueTask<int>(_tree.Count);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();
}
