using AccessLayer.Gateway.Transport;
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
            OnFailed(connection, ex);
        }
    }

    /// <summary>
    /// The connection's whole life without the guard: for a transport that watches the returned task
    /// itself and calls <see cref="OnFailed"/> (the epoll engine), saving one async box per connection.
    /// A transport that can park input (<see cref="IParkedInputFeature"/>) gets the connection's lifetime handed
    /// back instead of a task: nothing is pending while the connection is idle.
    /// </summary>
    internal Task RunUnguardedAsync(ConnectionContext connection)
    {
        var mqtt = broker.Accept(connection, logger);
        if (connection is IParkedInputFeature)
        {
            mqtt.StartParked();
            return Task.CompletedTask;
        }

        return mqtt.RunAsync();
    }

    internal void OnFailed(ConnectionContext connection, Exception exception) => MqttLog.ConnectionFailed(logger, exception, connection.ConnectionId);
}
