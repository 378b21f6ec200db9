namespace AccessLayer.SessionGrains.Nodes;

/// <summary>A node as its peers and the admin API see it.</summary>
[GenerateSerializer, Immutable]
public sealed record NodeInfo(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string? MqttEndpoint,
    [property: Id(2)] string? MlpEndpoint,
    [property: Id(3)] int MqttConnections,
    [property: Id(4)] int MlpConnections,
    [property: Id(5)] bool Draining,
    [property: Id(6)] int LocalRoutes,
    [property: Id(7)] string? ForwardEndpoint = null);
