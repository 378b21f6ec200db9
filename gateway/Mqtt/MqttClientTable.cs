using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The broker's connected clients by client id, chained through the connections themselves
/// (<see cref="ChainedTable{T}"/>, link <see cref="MqttConnection.ClientTableNext"/>): no 48 B dictionary node per
/// client, lookups without a lock. A connection is keyed by its <see cref="MqttConnection.ClientId"/>, set
/// (<see cref="MqttConnection.Attach"/>) before it is added.
/// </summary>
internal sealed class MqttClientTable
{
    private readonly ChainedTable<MqttConnection> _table = new();

    public int Count => _table.Count;

    /// <summary>A snapshot of the connected clients.</summary>
    public List<MqttConnection> Values => _table.Values;

    public bool TryGetValue(string clientId, out MqttConnection connection) => _table.TryGetValue(clientId, out connection);

    /// <summary>Adds <paramref name="value"/> under its client id, replacing whichever connection had it.</summary>
    public MqttConnection this[string clientId]
    {
        set
        {
            if (!string.Equals(value.ClientId, clientId, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A connection is added under its own client id.");
            }

            _table.Set(value);
        }
    }

    /// <summary>Removes the client only if <paramref name="entry"/>'s connection is still the one listed under its id.</summary>
    public bool TryRemove(KeyValuePair<string, MqttConnection> entry) =>
        string.Equals(entry.Value.ClientId, entry.Key, StringComparison.Ordinal) && _table.TryRemove(entry.Value);
}
