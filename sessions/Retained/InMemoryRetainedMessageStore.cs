using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Retained;

/// <summary>
/// The one-node retained store: a <see cref="RetainedTopicTree"/> behind a reader-writer lock
/// (matches on SUBSCRIBE share the read side; a retained PUBLISH takes the write side briefly).
/// </summary>
internal sealed class InMemoryRetainedMessageStore(TimeProvider time) : IRetainedMessageStore, IDisposable
{
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
