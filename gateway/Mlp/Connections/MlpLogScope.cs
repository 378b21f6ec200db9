using AccessLayer.Gateway.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>An MLP connection's logger and logging scope (ConnectionLogScope): its device id (once HELLO is accepted), the node, the connection id.</summary>
internal sealed class MlpLogScope(ILogger inner, MlpConnection connection, MlpGateway gateway) : ConnectionLogScope(inner)
{
    public const string DeviceIdKey = "DeviceId";

    protected override string IdKey => DeviceIdKey;

    protected override string? Id => connection.DeviceId;

    protected override string ConnectionId => connection.ConnectionId;

    protected override string NodeId => gateway.Fleet.NodeId;
}
