namespace AccessLayer.Gateway.Mqtt;

/// <summary>The connection's place in the broker's <see cref="MqttConnectionList"/> and <see cref="MqttClientTable"/>: links instead of dictionary entries.</summary>
internal sealed partial class MqttConnection
{
    // Links of the broker's MqttConnectionList (under its lock; ListNext is also read without it).
    internal MqttConnection? ListPrevious;
    internal MqttConnection? ListNext;
    internal ListMembership ListState;

    // Chain link of the broker's MqttClientTable (written under its lock, read without it).
    internal MqttConnection? ClientTableNext;

    internal enum ListMembership : byte
    {
        None,
        Listed,
        Removed,
    }
}
