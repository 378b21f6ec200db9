using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace AccessLayer.SessionGrains.Nodes;

/// <summary>
/// Places a grain on the silo its key names (<see cref="SiloAddress.ToParsableString"/>), and
/// nowhere else: a node's endpoint lives and dies with that node. A key naming a silo that is not
/// an active member fails the call, which is what a caller of a dead node must see.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class NodePlacement : PlacementStrategy
{
    internal static NodePlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class keyed by node id as living on that node.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodePlacementAttribute : PlacementAttribute
{
    public NodePlacementAttribute()
        : base(NodePlacement.Singleton)
    {
    }
}

internal sealed class NodePlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        var silo = SiloAddress.FromParsableString(key);
        foreach (var compatible in context.GetCompatibleSilos(target))
        {
            if (compatible.Equals(silo))
            {
                return Task.FromResult(silo);
            }
        }

        throw new SiloUnavailableException($"Node {key} is not an active member of the fleet.");
    }
}
