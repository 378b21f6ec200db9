using AccessLayer.Gateway.Governance;
using AccessLayer.SessionGrains.Fleet;

namespace AccessLayer.Gateway.Fleet;

/// <summary>Drained clients go to live peers: MQTT to the least loaded one, MLP to any of them.</summary>
internal sealed class FleetDrainTargets(IFleet fleet) : IDrainTargets
{
    public async Task<(string? ServerReference, IReadOnlyList<string> MlpEndpoints)> ResolveAsync(CancellationToken cancellationToken)
    {
        var peers = (await fleet.DescribeFleetAsync(cancellationToken).ConfigureAwait(false))
            .Where(n => n.NodeId != fleet.NodeId && !n.Draining)
            .OrderBy(n => n.MqttConnections + n.MlpConnections)
            .ToList();
        return (peers.FirstOrDefault()?.MqttEndpoint, [.. peers.Select(n => n.MlpEndpoint).OfType<string>()]);
    }
}
