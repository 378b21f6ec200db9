using AccessLayer.Gateway.Governance;
using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>This node's <see cref="DrainCoordinator"/> behind the fleet's drain call (<see cref="INodeGrain.DrainAsync"/>): what a peer's dashboard starts, cancels and watches.</summary>
internal static class LocalNodeDrain
{
    public static NodeDrainStatus Apply(DrainCoordinator drain, NodeDrainCommand command)
    {
        var accepted = command switch
        {
            NodeDrainCommand.Start => drain.Start("dashboard"),
            NodeDrainCommand.Cancel => drain.Cancel(),
            _ => true,
        };
        var status = drain.Status;
        return new NodeDrainStatus(status.State.ToString().ToLowerInvariant(), status.StartedAt, status.Moved, status.Remaining, accepted);
    }
}
