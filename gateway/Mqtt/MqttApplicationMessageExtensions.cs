using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Mqtt;

internal static class MqttApplicationMessageExtensions
{
    /// <summary>A copy that carries another Message Expiry Interval (the payload is shared, not copied).</summary>
    public static MqttApplicationMessage WithMessageExpiryInterval(this MqttApplicationMessage message, uint? expiry) => new()
    {
        Topic = message.Topic,
        Payload = message.Payload,
        QualityOfService = message.QualityOfService,
        Retain = message.Retain,
        PayloadFormatIndicator = message.PayloadFormatIndicator,
        MessageExpiryInterval = expiry,
        ContentType = message.ContentType,
        ResponseTopic = message.ResponseTopic,
        CorrelationData = message.CorrelationData,
        UserProperties = message.UserProperties,
    };
}
