using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Routes;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>Route replication: this node's rows out to every peer, peers' rows in.</summary>
internal sealed partial class FleetNode
{
    public async ValueTask AddLocalRouteAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        if (!IsEnabled)
        {
            return;
        }

        List<Task>? applied = null;
        lock (_routeGate)
        {
            var version = _routes.AddLocal(_nodeId, topicFilter);
            if (version == 0)
            {
                return;
            }

            foreach (var peer in _peers.Values)
            {
                peer.Routes.QueueRow(version, topicFilter, present: true);
                (applied ??= []).Add(peer.Routes.WaitAppliedAsync(version));
            }
        }

        await WaitReplicatedAsync(applied, cancellationToken).ConfigureAwait(false);
    }

    public void RemoveLocalRoute(string topicFilter)
    {
        if (!IsEnabled)
        {
            return;
        }

        lock (_routeGate)
        {
            var version = _routes.RemoveLocal(_nodeId, topicFilter);
            if (version == 0)
            {
                return;
            }

            foreach (var peer in _peers.Values)
            {
                peer.Routes.QueueRow(version, topicFilter, present: false);
            }
        }
    }

    public async ValueTask SetDurableSubscriptionsAsync(string clientId, IReadOnlyList<Subscription>? subscriptions, CancellationToken cancellationToken = default)
    {
        if (!IsEnabled)
        {
            return;
        }

        var encoded = subscriptions is null || subscriptions.Count == 0 ? null : FleetCodec.EncodeSubscriptions(subscriptions);
        if (encoded is null && !_routes.HasDurable(clientId))
        {
            // Nothing to remove (every clean session ends here): no Redis write, nothing for the peers. The replica holds
            // every node's rows (a SUBACK waits for their replication) and those Redis had when this node started.
            return;
        }

        if (_durable is not null)
        {
            // Redis first: a node that starts after this reads it there.
            await _durable.SetSubscriptionsAsync(clientId, encoded, cancellationToken).ConfigureAwait(false);
        }

        List<Task>? applied = null;
        lock (_routeGate)
        {
            var version = _routes.SetLocalDurable(clientId, encoded, encoded is null ? null : subscriptions);
            var row = new DurableSubscriptionRow(clientId, encoded);
            foreach (var peer in _peers.Values)
            {
                peer.Routes.QueueDurable(version, row);
                (applied ??= []).Add(peer.Routes.WaitAppliedAsync(version));
            }
        }

        await WaitReplicatedAsync(applied, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A peer's update arrived (through its call to this node's grain).</summary>
    public void ApplyRoutes(RouteUpdate update) => _routes.Apply(update, static bytes => FleetCodec.DecodeSubscriptions(bytes));

    private async ValueTask WaitReplicatedAsync(List<Task>? applied, CancellationToken cancellationToken)
    {
        if (applied is null)
        {
            return;
        }

        try
        {
            await Task.WhenAll(applied).WaitAsync(_options.RouteReplicationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A slow or dying peer: it gets a snapshot when it answers again, and a dead one is dropped.
            FleetLog.ReplicationSlow(_logger, applied.Count, _options.RouteReplicationTimeout);
        }
    }
}
