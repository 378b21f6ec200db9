using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.Options;

namespace AccessLayer.SessionGrains.Routes;

/// <summary>
/// This node's replica of the fleet route table. Node rows (as EMQX keeps them): topic filter →
/// the nodes with a subscriber to it, matched per publish with the same trie the broker uses
/// (a node is a "client" of it, so shared groups round-robin over nodes). This node's own rows
/// are counted per filter so peers hear only of a first subscriber and a last one leaving.
/// Durable rows: per client, its subscriptions that hold messages in Redis.
/// </summary>
internal sealed class RouteTable : IDisposable
{
    private readonly InMemorySubscriptionRouter _nodes;
    private readonly InMemorySubscriptionRouter _durable;
    private readonly Dictionary<string, int> _localCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _localDurable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _peerVersions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _localVersion;

    public RouteTable(IOptions<SessionsOptions> options)
    {
        _nodes = new InMemorySubscriptionRouter(options);
        _durable = new InMemorySubscriptionRouter(options);
    }

    /// <summary>Node rows held (this node's included).</summary>
    public int Count => _nodes.Count;

    /// <summary>Filters this node has subscribers to.</summary>
    public int LocalCount
    {
        get
        {
            lock (_gate)
            {
                return _localCounts.Count;
            }
        }
    }

    /// <summary>Durable subscriptions held, fleet-wide.</summary>
    public int DurableCount => _durable.Count;

    /// <summary>Counts a local subscriber; returns the new local version when the filter became a row (peers must hear of it), else 0.</summary>
    public long AddLocal(string localNode, string topicFilter)
    {
        lock (_gate)
        {
            _localCounts.TryGetValue(topicFilter, out var count);
            _localCounts[topicFilter] = count + 1;
            if (count > 0)
            {
                return 0;
            }

            _nodes.Subscribe(localNode, topicFilter, new SubscriptionOptions(MqttQualityOfService.ExactlyOnce));
            return ++_localVersion;
        }
    }

    /// <summary>Uncounts a local subscriber; returns the new local version when the row went away, else 0.</summary>
    public long RemoveLocal(string localNode, string topicFilter)
    {
        lock (_gate)
        {
            if (!_localCounts.TryGetValue(topicFilter, out var count))
            {
                return 0;
            }

            if (count > 1)
            {
                _localCounts[topicFilter] = count - 1;
                return 0;
            }

            _localCounts.Remove(topicFilter);
            _nodes.Unsubscribe(localNode, topicFilter);
            return ++_localVersion;
        }
    }

    /// <summary>Whether this node has a row for the filter.</summary>
    public bool HasLocal(string topicFilter)
    {
        lock (_gate)
        {
            return _localCounts.ContainsKey(topicFilter);
        }
    }

    /// <summary>Whether the client has durable subscriptions, fleet-wide (as this replica knows them).</summary>
    public bool HasDurable(string clientId)
    {
        lock (_gate)
        {
            return _localDurable.ContainsKey(clientId) || _durable.HasClient(clientId);
        }
    }

    /// <summary>Records the durable subscriptions of a client of this node (sent with snapshots) and applies them; returns the local version to replicate.</summary>
    public long SetLocalDurable(string clientId, byte[]? encoded, IReadOnlyList<Subscription>? subscriptions)
    {
        lock (_gate)
        {
            if (encoded is null)
            {
                _localDurable.Remove(clientId);
            }
            else
            {
                _localDurable[clientId] = encoded;
            }

            SetDurable(clientId, subscriptions);
            return ++_localVersion;
        }
    }

    /// <summary>This node's rows and durable rows as one snapshot update, with the version it reflects.</summary>
    public RouteUpdate Snapshot(string localNode)
    {
        lock (_gate)
        {
            var durable = new DurableSubscriptionRow[_localDurable.Count];
            var i = 0;
            foreach (var (clientId, encoded) in _localDurable)
            {
                durable[i++] = new DurableSubscriptionRow(clientId, encoded);
            }

            return new RouteUpdate(localNode, _localVersion, IsSnapshot: true, [.. _localCounts.Keys], [], durable);
        }
    }

    /// <summary>Applies a peer's update: a snapshot replaces its rows; a delta older than what it already applied is ignored.</summary>
    public void Apply(RouteUpdate update, Func<byte[], IReadOnlyList<Subscription>> decode)
    {
        lock (_gate)
        {
            if (update.IsSnapshot)
            {
                _nodes.RemoveClient(update.FromNode, removedFilters: null);
            }
            else if (_peerVersions.TryGetValue(update.FromNode, out var known) && update.Version <= known)
            {
                return;
            }

            _peerVersions[update.FromNode] = update.Version;
            foreach (var filter in update.Added)
            {
                _nodes.Subscribe(update.FromNode, filter, new SubscriptionOptions(MqttQualityOfService.ExactlyOnce));
            }

            foreach (var filter in update.Removed)
            {
                _nodes.Unsubscribe(update.FromNode, filter);
            }

            foreach (var row in update.Durable)
            {
                SetDurable(row.ClientId, row.Subscriptions is null ? null : decode(row.Subscriptions));
            }
        }
    }

    /// <summary>Loads durable rows read from Redis at start (sessions of nodes that may be gone).</summary>
    public void LoadDurable(string clientId, IReadOnlyList<Subscription> subscriptions)
    {
        lock (_gate)
        {
            SetDurable(clientId, subscriptions);
        }
    }

    /// <summary>A peer left the fleet: its node rows go (durable rows stay: they belong to sessions, which another node resumes).</summary>
    public void RemoveNode(string node)
    {
        lock (_gate)
        {
            _nodes.RemoveClient(node, removedFilters: null);
            _peerVersions.Remove(node);
        }
    }

    /// <summary>Node rows matching a topic: one match per node with plain rows, one per shared group for the node the round robin picks.</summary>
    public void MatchNodes(string topic, SubscriberMatches result) => _nodes.Match(topic, publisherClientId: null, result);

    /// <summary>Durable subscriptions matching a topic, No Local applied.</summary>
    public void MatchDurable(string topic, string? publisherClientId, SubscriberMatches result) => _durable.Match(topic, publisherClientId, result);

    public IReadOnlyList<(string Node, string Filter)> Rows()
    {
        var rows = new List<(string, string)>();
        lock (_gate)
        {
            foreach (var (node, filter) in _nodes.Enumerate())
            {
                rows.Add((node, filter));
            }
        }

        return rows;
    }

    public void Dispose()
    {
        _nodes.Dispose();
        _durable.Dispose();
    }

    private void SetDurable(string clientId, IReadOnlyList<Subscription>? subscriptions)
    {
        _durable.RemoveClient(clientId, removedFilters: null);
        if (subscriptions is null)
        {
            return;
        }

        foreach (var subscription in subscriptions)
        {
            _durable.Subscribe(clientId, subscription.TopicFilter, subscription.Options);
        }
    }
}
