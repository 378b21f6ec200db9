using AccessLayer.Gateway.Connections;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>The logging scope of one line an MQTT connection writes (ConnectionLogScope; made per line by the connection, its own logger): its client id (once CONNECT is accepted), the node, the connection id.</summary>
internal sealed class MqttLogScope(ILogger inner, MqttConnection connection, MqttBroker broker) : ConnectionLogScope(inner)
{
    public const string ClientIdKey = "ClientId";

    protected override string IdKey => ClientIdKey;

    protected override string? Id => connection.ClientId;

    protected override string ConnectionId => connection.ConnectionId;

    protected override string NodeId => broker.Fleet.NodeId;
}
