using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Routing;

/// <summary>
/// One delivery a published message owes: either one client's non-shared subscriptions
/// merged (MQTT 5.0 3.3.4: one copy, the highest granted QoS, every matching subscription
/// identifier) or the member a shared subscription chose (<see cref="ShareGroup"/> set), which
/// is a separate copy even when that client also has a non-shared match (4.8.2).
/// </summary>
public readonly struct SubscriberMatch
{
    internal SubscriberMatch(string clientId, MqttQualityOfService maximumQualityOfService, bool retainAsPublished, string? shareGroup, int idStart, int idCount)
    {
        ClientId = clientId;
        MaximumQualityOfService = maximumQualityOfService;
        RetainAsPublished = retainAsPublished;
        ShareGroup = shareGroup;
        IdStart = idStart;
        IdCount = idCount;
    }

    public string ClientId { get; }

    /// <summary>The highest maximum QoS of the matching subscriptions; deliver at min(this, message QoS).</summary>
    public MqttQualityOfService MaximumQualityOfService { get; }

    /// <summary>True when any matching subscription asked for Retain As Published.</summary>
    public bool RetainAsPublished { get; }

    /// <summary>The share group name when this delivery is for a shared subscription, else null.</summary>
    public string? ShareGroup { get; }

    internal int IdStart { get; }

    internal int IdCount { get; }
}
