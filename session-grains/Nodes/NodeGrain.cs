using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Routes;
using Orleans.Concurrency;

namespace AccessLayer.SessionGrains.Nodes;

/// <summary>The node endpoint: a thin door into this node's <see cref="FleetNode"/>.</summary>
[NodePlacement]
[Reentrant]
internal sealed class NodeGrain(FleetNode node) : Grain, INodeGrain
{
    public Task ApplyRoutesAsync(RouteUpdate update)
    {
        node.ApplyRoutes(update);
        return Task.CompletedTask;
    }

    public Task DeliverAsync(byte[] batch) => node.DeliverBatchAsync(batch);

    public Task<byte[]?> HandOverSessionAsync(string clientId, long epoch) => node.HandOverAsync(clientId, epoch);

    public Task<NodeInfo> GetInfoAsync() => Task.FromResult(node.Describe());

    public Task<byte[]> GetRetainedAsync() => node.ExportRetainedAsync();

    public Task FlushDurableAsync() => node.FlushDurableAsync();

    public Task<Mlp.MlpPushReply> PushMlpAsync(string deviceId, byte[] push, bool sequenced) => node.PushMlpHereAsync(deviceId, push, sequenced);

    public Task<byte[]?> HandOverMlpAsync(string deviceId, long epoch) => node.HandOverMlpHereAsync(deviceId, epoch);

    public Task PullMlpAsync(string deviceId) => node.PullMlpHereAsync(deviceId);

    public Task<NodeStats> GetStatsAsync(DateTimeOffset since) => Task.FromResult(node.LocalStats(since));

    public Task<NodeDrainStatus> DrainAsync(NodeDrainCommand command) => Task.FromResult(node.LocalDrain(command));
}
