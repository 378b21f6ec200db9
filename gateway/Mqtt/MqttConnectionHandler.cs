using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>Kestrel's entry point for an MQTT listener: one call per accepted connection, for its lifetime.</summary>
internal sealed class MqttConnectionHandler(MqttBroker broker, ILogger<MqttConnection> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var mqtt = broker.Accept(connection, logger);
        try
        {
            await mqtt.RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Never let one connection's bug reach Kestrel's loop; the connection alone ends.
            MqttLog.ConnectionFailed(logger, ex, connection.ConnectionId);
        }
    }
}
