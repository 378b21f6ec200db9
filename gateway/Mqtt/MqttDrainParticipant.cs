using AccessLayer.Gateway.Governance;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>The MQTT side of a drain: 5.0 clients are sent DISCONNECT 0x9C with the Server Reference, 3.1.1 clients are closed; sessions stay.</summary>
internal sealed class MqttDrainParticipant(MqttBroker broker, ILogger<MqttDrainParticipant> logger) : IDrainParticipant
{
    public string Protocol => "mqtt";

    public int ConnectionCount => broker.Connections.Count;

    public bool HasClientsToMove => broker.Connections.Any(c => !c.IsGoingAway);

    public int MoveClients(int maxCount, DrainContext context)
    {
        var moved = 0;
        foreach (var connection in broker.Connections)
        {
            if (moved >= maxCount)
            {
                break;
            }

            if (connection.MoveAway(context))
            {
                moved++;
                if (connection.ClientId is { } clientId)
                {
                    GovernanceLog.ClientMoved(logger, clientId);
                }
            }
        }

        return moved;
    }
}
