namespace AccessLayer.Gateway.Mqtt;

/// <summary>The connection's place in the broker's <see cref="MqttConnectionList"/>: two links instead of a dictionary entry.</summary>
internal sealed partial class MqttConnection
{
    // Links of the broker's MqttConnectionList (under its lock; ListNext is also read without it).
    internal MqttConnection? ListPrevious;
    internal MqttConnection? ListNext;
    internal ListMembership ListState;

    internal enum ListMembership : byte
    {
        None,
        Listed,
        Removed,
    }
}
