using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>The connection's place in the broker's <see cref="MqttConnectionList"/> and <see cref="MqttClientTable"/>: links instead of dictionary entries.</summary>
internal sealed partial class MqttConnection : IChained<MqttConnection>
{
    // Links of the broker's MqttConnectionList (under its lock; ListNext is also read without it).
    internal MqttConnection? ListPrevious;
    internal MqttConnection? ListNext;
    internal ListMembership ListState;

    // Chain link of the broker's MqttClientTable (written under its lock, read without it).
    internal MqttConnection? ClientTableNext;

    string IChained<MqttConnection>.ChainKey => ClientId ?? throw new InvalidOperationException("A connection without a client id is in no client table.");

    ref MqttConnection? IChained<MqttConnection>.ChainNext => ref ClientTableNext;

    internal enum ListMembership : byte
    {
        None,
        Listed,
        Removed,
    }
}
