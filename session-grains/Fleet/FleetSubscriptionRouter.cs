using AccessLayer.Sessions;
using AccessLayer.Sessions.Routing;
using Microsoft.Extensions.Options;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// The broker's route table in a fleet: the local trie (matching stays local and lock-light), with
/// every first subscriber and last leaver of a filter on this node told to the fleet, which
/// replicates the row to its peers before a SUBSCRIBE completes.
/// </summary>
internal sealed class FleetSubscriptionRouter : ISubscriptionRouter, IDisposable
{
    private readonly InMemorySubscriptionRouter _local;
    private readonly IFleet _fleet;

    public FleetSubscriptionRouter(IOptions<SessionsOptions> options, IFleet fleet)
    {
        _local = new InMemorySubscriptionRouter(options);
        _fleet = fleet;
    }

    public async ValueTask<bool> SubscribeAsync(string clientId, string topicFilter, SubscriptionOptions options, CancellationToken cancellationToken = default)
    {
        var added = _local.Subscribe(clientId, topicFilter, options);
        if (added)
        {
            await _fleet.AddLocalRouteAsync(topicFilter, cancellationToken).ConfigureAwait(false);
        }

        return added;
    }

    public ValueTask<bool> UnsubscribeAsync(string clientId, string topicFilter, CancellationToken cancellationToken = default)
    {
        var removed = _local.Unsubscribe(clientId, topicFilter);
        if (removed)
        {
            _fleet.RemoveLocalRoute(topicFilter);
        }

        return new ValueTask<bool>(removed);
    }

    public ValueTask<int> RemoveClientAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var filters = new List<string>();
        var removed = _local.RemoveClient(clientId, filters);
        foreach (var filter in filters)
        {
            _fleet.RemoveLocalRoute(filter);
        }

        return new ValueTask<int>(removed);
    }

    public ValueTask MatchAsync(string topic, string? publisherClientId, SubscriberMatches result, CancellationToken cancellationToken = default) =>
        _local.MatchAsync(topic, publisherClientId, result, cancellationToken);

    public void Dispose() => _local.Dispose();
}
