using AccessLayer.Sessions.Topics;
using Microsoft.Extensions.Options;

namespace AccessLayer.Sessions.Routing;

/// <summary>
/// The one-node route table: a <see cref="TopicTrie"/> behind a <see cref="ReaderWriterLockSlim"/>.
/// </summary>
/// <remarks>
/// Why a reader-writer lock rather than copy-on-write nodes: a level can have very many
/// children (every device id under a tenant), and copy-on-write would copy that whole level
/// on each subscribe, making a connect storm quadratic. Under the lock a subscribe is
/// O(levels) and holds the write side for well under a microsecond, while publishers match
/// in parallel on the read side. Grouping hits per client happens after the lock is released.
/// </remarks>
internal sealed class InMemorySubscriptionRouter : ISubscriptionRouter, IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly TopicTrie _trie = new();
    private readonly Dictionary<string, HashSet<string>> _filtersByClient = new(StringComparer.Ordinal);
    private readonly int _maxLevels;

    public InMemorySubscriptionRouter(IOptions<SessionsOptions> options)
    {
        _maxLevels = options.Value.MaxTopicLevels;
    }

    /// <summary>Subscriptions held (share group members counted once each).</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _trie.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    public ValueTask<bool> SubscribeAsync(string clientId, string topicFilter, SubscriptionOptions options, CancellationToken cancellationToken = default) =>
        new(Subscribe(clientId, topicFilter, options));

    /// <summary>The synchronous body of <see cref="SubscribeAsync"/> (the fleet's route table calls it under its own lock).</summary>
    internal bool Subscribe(string clientId, string topicFilter, SubscriptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ParsedTopicFilter parsed = Parse(topicFilter);
        _lock.EnterWriteLock();
        try
        {
            bool added = _trie.Add(parsed, clientId, options);
            if (added)
            {
                if (!_filtersByClient.TryGetValue(clientId, out HashSet<string>? filters))
                {
                    filters = new HashSet<string>(StringComparer.Ordinal);
                    _filtersByClient.Add(clientId, filters);
                }

                filters.Add(topicFilter);
            }

            return added;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public ValueTask<bool> UnsubscribeAsync(string clientId, string topicFilter, CancellationToken cancellationToken = default) =>
        new(Unsubscribe(clientId, topicFilter));

    /// <summary>The synchronous body of <see cref="UnsubscribeAsync"/>.</summary>
    internal bool Unsubscribe(string clientId, string topicFilter)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (!TopicFilter.TryParse(topicFilter, _maxLevels, out ParsedTopicFilter parsed))
        {
            return false;
        }

        _lock.EnterWriteLock();
        try
        {
            bool removed = _trie.Remove(parsed, clientId);
            if (removed && _filtersByClient.TryGetValue(clientId, out HashSet<string>? filters))
            {
                filters.Remove(topicFilter);
                if (filters.Count == 0)
                {
                    _filtersByClient.Remove(clientId);
                }
            }

            return removed;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Whether the client holds any subscription here.</summary>
    internal bool HasClient(string clientId)
    {
        _lock.EnterReadLock();
        try
        {
            return _filtersByClient.ContainsKey(clientId);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public ValueTask<int> RemoveClientAsync(string clientId, CancellationToken cancellationToken = default) =>
        new(RemoveClient(clientId, removedFilters: null));

    /// <summary>Removes every subscription of a client, adding the filters removed to <paramref name="removedFilters"/> (the fleet counts routes per filter).</summary>
    internal int RemoveClient(string clientId, List<string>? removedFilters)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        _lock.EnterWriteLock();
        try
        {
            if (!_filtersByClient.Remove(clientId, out HashSet<string>? filters))
            {
                return 0;
            }

            int removed = 0;
            foreach (string filter in filters)
            {
                if (TopicFilter.TryParse(filter, _maxLevels, out ParsedTopicFilter parsed) && _trie.Remove(parsed, clientId))
                {
                    removed++;
                    removedFilters?.Add(filter);
                }
            }

            return removed;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public ValueTask MatchAsync(string topic, string? publisherClientId, SubscriberMatches result, CancellationToken cancellationToken = default)
    {
        Match(topic, publisherClientId, result);
        return default;
    }

    /// <summary>The synchronous body of <see cref="MatchAsync"/>.</summary>
    internal void Match(string topic, string? publisherClientId, SubscriberMatches result)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(result);
        result.Clear();
        _lock.EnterReadLock();
        try
        {
            _trie.Match(topic, publisherClientId, result);
        }
        finally
        {
            _lock.ExitReadLock();
        }

        result.Complete();
    }

    /// <summary>Every (client, filter) held, for the admin API; a copy taken under the read lock.</summary>
    internal List<(string ClientId, string Filter)> Enumerate()
    {
        var rows = new List<(string, string)>();
        _lock.EnterReadLock();
        try
        {
            foreach (KeyValuePair<string, HashSet<string>> entry in _filtersByClient)
            {
                foreach (string filter in entry.Value)
                {
                    rows.Add((entry.Key, filter));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return rows;
    }

    public void Dispose() => _lock.Dispose();

    private ParsedTopicFilter Parse(string topicFilter)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        if (!TopicFilter.TryParse(topicFilter, _maxLevels, out ParsedTopicFilter parsed))
        {
            throw new ArgumentException($"'{topicFilter}' is not a valid topic filter (at most {_maxLevels} levels).", nameof(topicFilter));
        }

        return parsed;
    }
}
