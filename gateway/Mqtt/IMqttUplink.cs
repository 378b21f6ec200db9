using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// One small seam in the broker's inbound PUBLISH path: before the fan-out, a PUBLISH is offered to the uplinks (the
/// traffic table's MQTT rules, docs/traffic.md). A PUBLISH no rule takes goes on as it always did.
/// </summary>
internal interface IMqttUplink
{
    /// <summary>A traffic table is configured: connections keep their CONNECT user name for the uplinks.</summary>
    bool IsEnabled { get; }

    /// <summary>Whether any rule could take a PUBLISH now: false costs the broker nothing more.</summary>
    bool HasRules { get; }

    /// <summary>Whether a rule of the table in force matches <paramref name="topic"/> (QoS 2 checks for a duplicate before <see cref="Offer"/>).</summary>
    bool Matches(string topic);

    /// <summary>
    /// Offers <paramref name="publish"/> (its buffers are valid only during the call: what is kept is copied). When the
    /// verdict is <see cref="MqttUplinkVerdict.Forward"/> or <see cref="MqttUplinkVerdict.ForwardAndPublish"/> for QoS 1,
    /// <see cref="IMqttUplinkPublisher.Settle"/> is called exactly once for it later.
    /// </summary>
    MqttUplinkVerdict Offer(IMqttUplinkPublisher publisher, string topic, in MqttPublishPacket publish);
}

internal enum MqttUplinkVerdict
{
    /// <summary>No rule matches: the broker's usual path.</summary>
    None,

    /// <summary>Taken for the backend only.</summary>
    Forward,

    /// <summary>Taken for the backend, and published to subscribers as usual.</summary>
    ForwardAndPublish,

    /// <summary>A rule matches but its queue is full: not taken (MQTT 5: 0x97 quota exceeded).</summary>
    QueueFull,

    /// <summary>A rule matches but refuses the publisher or finds no backend for it: not taken (MQTT 5: 0x80).</summary>
    Refused,
}

/// <summary>Who published, as the connection knows it after CONNECT.</summary>
internal interface IMqttUplinkPublisher
{
    string ClientId { get; }

    /// <summary>The CONNECT's user name, as sent.</summary>
    string? UserName { get; }

    /// <summary>The user id authentication established (never one the client merely claimed); null when none was.</summary>
    string? Uid { get; }

    /// <summary>The backend accepted (<paramref name="accepted"/>) or refused the batch holding the QoS 1 message <paramref name="packetId"/>. Any thread.</summary>
    void Settle(ushort packetId, bool accepted);
}
