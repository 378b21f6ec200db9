using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The broker's connected clients by client id, chained through the connections themselves
/// (<see cref="ChainedTable{T}"/>, link <see cref="MqttConnection.ClientTableNext"/>): no 48 B dictionary node per
/// client, lookups without a lock. A connection is keyed by its <see cref="MqttConnection.ClientId"/>, set
/// (<see cref="MqttConnection.Attach"/>) before it is added.
/// </summary>
internal sealed class MqttClientTable : ChainedTable<MqttConnection>
{
    /// <summary>Adds <paramref name="value"/> under its client id, replacing whichever connection had it.</summary>
    public MqttConnection this[string clientId]
    {
        set
        {
            if (!string.Equals(value.ClientId, clientId, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A connection is added under its own client id.");
            }

            Set(value);
        }
    }

    /// <summary>Removes the client only if <paramref name="entry"/>'s connection is still the one listed under its id.</summary>
    public bool TryRemove(KeyValuePair<string, MqttConnection> entry) =>
        string.Equals(entry.Value.ClientId, entry.Key, StringComparison.Ordinal) && TryRemove(entry.Value);
}
