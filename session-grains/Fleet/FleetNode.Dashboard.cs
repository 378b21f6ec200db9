using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>What an operator's dashboard asks of a node, this one or a peer: its recent samples and its drain.</summary>
internal sealed partial class FleetNode
{
    private static readonly TimeSpan DashboardCallTimeout = TimeSpan.FromSeconds(5);

    public NodeStats LocalStats(DateTimeOffset since) => Local.Stats(_nodeId, since);

    public NodeDrainStatus LocalDrain(NodeDrainCommand command) => Local.Drain(command);

    public async Task<NodeStats?> GetNodeStatsAsync(string node, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        if (node == _nodeId)
        {
            return LocalStats(since);
        }

        return await CallPeerAsync(node, grain => grain.GetStatsAsync(since), cancellationToken).ConfigureAwait(false);
    }

    public async Task<NodeDrainStatus?> DrainNodeAsync(string node, NodeDrainCommand command, CancellationToken cancellationToken = default)
    {
        if (node == _nodeId)
        {
            return LocalDrain(command);
        }

        return await CallPeerAsync(node, grain => grain.DrainAsync(command), cancellationToken).ConfigureAwait(false);
    }

    private async Task<T?> CallPeerAsync<T>(string node, Func<INodeGrain, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        if (!_peers.TryGetValue(node, out var peer))
        {
            return null;
        }

        try
        {
            return await call(peer.Grain).WaitAsync(DashboardCallTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Dying or partitioned: the dashboard shows the node as unreachable.
            return null;
        }
    }
}
