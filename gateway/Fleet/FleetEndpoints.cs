using System.Text.Json;
using System.Text.Json.Serialization;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.Gateway.Fleet;

/// <summary>
/// The fleet on the management API: <c>GET /api/v1/fleet/nodes</c> (every active node as it describes
/// itself: endpoints, connections, draining, route rows it owns) and <c>GET /api/v1/fleet/routes</c>
/// (this node's replica of the route table).
/// </summary>
internal static class FleetEndpoints
{
    public static void MapFleetApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/fleet/nodes", async (IFleet fleet, CancellationToken cancellationToken) =>
        {
            var nodes = await fleet.DescribeFleetAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(new FleetNodes(fleet.IsEnabled, fleet.NodeId, [.. nodes.Select(ToInfo)]), FleetJsonContext.Default.FleetNodes);
        });
        api.MapGet("/fleet/routes", (FleetNode fleet) =>
            Results.Json(new FleetRoutes(fleet.NodeId, [.. fleet.RouteRows().Select(r => new FleetRoute(r.Node, r.Filter))]), FleetJsonContext.Default.FleetRoutes));
    }

    private static FleetNodeInfo ToInfo(NodeInfo node) =>
        new(node.NodeId, node.Draining ? "draining" : "active", node.MqttEndpoint, node.MlpEndpoint, node.MqttConnections + node.MlpConnections, node.MqttConnections, node.MlpConnections, node.LocalRoutes);
}

internal sealed record FleetNodes(bool Fleet, string Self, IReadOnlyList<FleetNodeInfo> Nodes);

internal sealed record FleetNodeInfo(string Id, string Status, string? Mqtt, string? Mlp, int Connections, int MqttConnections, int MlpConnections, int Routes);

internal sealed record FleetRoutes(string Self, IReadOnlyList<FleetRoute> Routes);

internal sealed record FleetRoute(string Node, string Filter);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FleetNodes))]
[JsonSerializable(typeof(FleetRoutes))]
internal sealed partial class FleetJsonContext : JsonSerializerContext;
