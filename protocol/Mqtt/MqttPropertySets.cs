namespace AccessLayer.Protocol.Mqtt;

/// <summary>Which properties each packet may carry (spec 2.2.2.2), as bit masks over the identifier.</summary>
internal static class MqttPropertySets
{
    public static readonly ulong Connect = Mask(
        MqttPropertyId.SessionExpiryInterval, MqttPropertyId.ReceiveMaximum, MqttPropertyId.MaximumPacketSize,
        MqttPropertyId.TopicAliasMaximum, MqttPropertyId.RequestResponseInformation, MqttPropertyId.RequestProblemInformation,
        MqttPropertyId.UserProperty, MqttPropertyId.AuthenticationMethod, MqttPropertyId.AuthenticationData);

    public static readonly ulong Will = Mask(
        MqttPropertyId.WillDelayInterval, MqttPropertyId.PayloadFormatIndicator, MqttPropertyId.MessageExpiryInterval,
        MqttPropertyId.ContentType, MqttPropertyId.ResponseTopic, MqttPropertyId.CorrelationData, MqttPropertyId.UserProperty);

    public static readonly ulong ConnAck = Mask(
        MqttPropertyId.SessionExpiryInterval, MqttPropertyId.ReceiveMaximum, MqttPropertyId.MaximumQoS,
        MqttPropertyId.RetainAvailable, MqttPropertyId.MaximumPacketSize, MqttPropertyId.AssignedClientIdentifier,
        MqttPropertyId.TopicAliasMaximum, MqttPropertyId.ReasonString, MqttPropertyId.UserProperty,
        MqttPropertyId.WildcardSubscriptionAvailable, MqttPropertyId.SubscriptionIdentifierAvailable,
        MqttPropertyId.SharedSubscriptionAvailable, MqttPropertyId.ServerKeepAlive, MqttPropertyId.ResponseInformation,
        MqttPropertyId.ServerReference, MqttPropertyId.AuthenticationMethod, MqttPropertyId.AuthenticationData);

    public static readonly ulong Publish = Mask(
        MqttPropertyId.PayloadFormatIndicator, MqttPropertyId.MessageExpiryInterval, MqttPropertyId.TopicAlias,
        MqttPropertyId.ResponseTopic, MqttPropertyId.CorrelationData, MqttPropertyId.UserProperty,
        MqttPropertyId.SubscriptionIdentifier, MqttPropertyId.ContentType);

    /// <summary>PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK.</summary>
    public static readonly ulong Ack = Mask(MqttPropertyId.ReasonString, MqttPropertyId.UserProperty);

    public static readonly ulong Subscribe = Mask(MqttPropertyId.SubscriptionIdentifier, MqttPropertyId.UserProperty);

    public static readonly ulong Unsubscribe = Mask(MqttPropertyId.UserProperty);

    public static readonly ulong Disconnect = Mask(
        MqttPropertyId.SessionExpiryInterval, MqttPropertyId.ReasonString, MqttPropertyId.UserProperty, MqttPropertyId.ServerReference);

    public static readonly ulong Auth = Mask(
        MqttPropertyId.AuthenticationMethod, MqttPropertyId.AuthenticationData, MqttPropertyId.ReasonString, MqttPropertyId.UserProperty);

    /// <summary>User properties repeat everywhere.</summary>
    public static readonly ulong UserPropertyOnly = Mask(MqttPropertyId.UserProperty);

    /// <summary>A PUBLISH may carry one Subscription Identifier per matching subscription.</summary>
    public static readonly ulong PublishRepeatable = Mask(MqttPropertyId.UserProperty, MqttPropertyId.SubscriptionIdentifier);

    private static ulong Mask(params MqttPropertyId[] ids)
    {
        ulong mask = 0;
        foreach (var id in ids)
        {
            mask |= 1UL << (int)id;
        }

        return mask;
    }
}
