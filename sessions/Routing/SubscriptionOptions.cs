using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Routing;

/// <summary>
/// The options of one subscription as granted (MQTT 5.0 3.8.3.1). For MQTT 3.1.1 only
/// <see cref="MaximumQualityOfService"/> is set. <see cref="SubscriptionIdentifier"/> 0 means none.
/// </summary>
public readonly record struct SubscriptionOptions(
    MqttQualityOfService MaximumQualityOfService,
    bool NoLocal = false,
    bool RetainAsPublished = false,
    RetainHandling RetainHandling = RetainHandling.SendAtSubscribe,
    uint SubscriptionIdentifier = 0);
