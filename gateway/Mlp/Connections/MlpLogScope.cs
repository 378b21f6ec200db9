using AccessLayer.Gateway.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>An MLP connection's logging scope: its device id (once HELLO is accepted), the node, the connection id.</summary>
internal sealed class MlpLogScope(MlpConnection connection, MlpGateway gateway) : ConnectionLogScope
{
    public const string DeviceIdKey = "DeviceId";

    protected override string IdKey => DeviceIdKey;

    protected override string? Id => connection.DeviceId;

    protected override string ConnectionId => connection.ConnectionId;

    protected override string NodeId => gateway.Fleet.NodeId;
}
