using System.Text.Json;

namespace AccessLayer.Gateway.Tests.Fleet.Infrastructure;

/// <summary>One node as a fleet member reports it (<c>GET /api/v1/fleet/nodes</c> on the management port).</summary>
internal sealed record FleetMember(string Id, string Status, string? Mqtt, string? Mlp, long Connections)
{
    public bool IsActive => string.Equals(Status, "active", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads <c>{ "nodes": [ { "id": ..., "status": "active", "mqtt": "host:port", "mlp": ..., "connections": n } ] }</c>.
    /// The id is taken as text whatever its JSON type; absent fields are null or 0.
    /// </summary>
    public static IReadOnlyList<FleetMember> ParseList(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"no \"nodes\" array in {json}");
        }

        return [.. nodes.EnumerateArray().Select(node => new FleetMember(
            node.TryGetProperty("id", out var id) ? (id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText()) : "",
            Text(node, "status") ?? "",
            Text(node, "mqtt"),
            Text(node, "mlp"),
            node.TryGetProperty("connections", out var connections) && connections.TryGetInt64(out var n) ? n : 0))];
    }

    private static string? Text(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
