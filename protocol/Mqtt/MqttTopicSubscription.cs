namespace AccessLayer.Protocol.Mqtt;

/// <summary>One topic filter of a SUBSCRIBE with its options (NoLocal, RetainAsPublished, RetainHandling are 5.0 only).</summary>
public readonly record struct MqttTopicSubscription(
    string TopicFilter,
    MqttQualityOfService MaximumQoS,
    bool NoLocal = false,
    bool RetainAsPublished = false,
    MqttRetainHandling RetainHandling = MqttRetainHandling.SendAtSubscribe);
