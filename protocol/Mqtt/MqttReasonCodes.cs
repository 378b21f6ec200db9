namespace AccessLayer.Protocol.Mqtt;

/// <summary>Which reason codes each 5.0 packet may carry (spec 2.4), and the 3.1.1 CONNACK mapping.</summary>
public static class MqttReasonCodes
{
    /// <summary>The nearest 3.1.1 CONNACK return code for a 5.0 outcome.</summary>
    public static MqttConnectReturnCode ToConnectReturnCode(MqttReasonCode reasonCode) => reasonCode switch
    {
        MqttReasonCode.Success => MqttConnectReturnCode.Accepted,
        MqttReasonCode.UnsupportedProtocolVersion => MqttConnectReturnCode.UnacceptableProtocolVersion,
        MqttReasonCode.ClientIdentifierNotValid => MqttConnectReturnCode.IdentifierRejected,
        MqttReasonCode.BadUserNameOrPassword => MqttConnectReturnCode.BadUserNameOrPassword,
        MqttReasonCode.NotAuthorized or MqttReasonCode.Banned or MqttReasonCode.BadAuthenticationMethod => MqttConnectReturnCode.NotAuthorized,
        _ => MqttConnectReturnCode.ServerUnavailable,
    };

    public static MqttReasonCode FromConnectReturnCode(MqttConnectReturnCode returnCode) => returnCode switch
    {
        MqttConnectReturnCode.Accepted => MqttReasonCode.Success,
        MqttConnectReturnCode.UnacceptableProtocolVersion => MqttReasonCode.UnsupportedProtocolVersion,
        MqttConnectReturnCode.IdentifierRejected => MqttReasonCode.ClientIdentifierNotValid,
        MqttConnectReturnCode.ServerUnavailable => MqttReasonCode.ServerUnavailable,
        MqttConnectReturnCode.BadUserNameOrPassword => MqttReasonCode.BadUserNameOrPassword,
        MqttConnectReturnCode.NotAuthorized => MqttReasonCode.NotAuthorized,
        _ => throw new ArgumentOutOfRangeException(nameof(returnCode), returnCode, "Reserved CONNACK return code."),
    };

    /// <summary>True when the 5.0 spec lists <paramref name="reasonCode"/> for <paramref name="packetType"/>.</summary>
    public static bool IsValidFor(MqttPacketType packetType, MqttReasonCode reasonCode) => packetType switch
    {
        MqttPacketType.ConnAck => reasonCode is MqttReasonCode.Success
            or (>= MqttReasonCode.UnspecifiedError and <= MqttReasonCode.Banned)
            or MqttReasonCode.BadAuthenticationMethod or MqttReasonCode.TopicNameInvalid or MqttReasonCode.PacketTooLarge
            or MqttReasonCode.QuotaExceeded or MqttReasonCode.PayloadFormatInvalid or MqttReasonCode.RetainNotSupported
            or MqttReasonCode.QoSNotSupported or MqttReasonCode.UseAnotherServer or MqttReasonCode.ServerMoved
            or MqttReasonCode.ConnectionRateExceeded,
        MqttPacketType.PubAck or MqttPacketType.PubRec => reasonCode is MqttReasonCode.Success
            or MqttReasonCode.NoMatchingSubscribers or MqttReasonCode.UnspecifiedError
            or MqttReasonCode.ImplementationSpecificError or MqttReasonCode.NotAuthorized or MqttReasonCode.TopicNameInvalid
            or MqttReasonCode.PacketIdentifierInUse or MqttReasonCode.QuotaExceeded or MqttReasonCode.PayloadFormatInvalid,
        MqttPacketType.PubRel or MqttPacketType.PubComp => reasonCode is MqttReasonCode.Success or MqttReasonCode.PacketIdentifierNotFound,
        MqttPacketType.SubAck => reasonCode is MqttReasonCode.GrantedQoS0 or MqttReasonCode.GrantedQoS1 or MqttReasonCode.GrantedQoS2
            or MqttReasonCode.UnspecifiedError or MqttReasonCode.ImplementationSpecificError or MqttReasonCode.NotAuthorized
            or MqttReasonCode.TopicFilterInvalid or MqttReasonCode.PacketIdentifierInUse or MqttReasonCode.QuotaExceeded
            or MqttReasonCode.SharedSubscriptionsNotSupported or MqttReasonCode.SubscriptionIdentifiersNotSupported
            or MqttReasonCode.WildcardSubscriptionsNotSupported,
        MqttPacketType.UnsubAck => reasonCode is MqttReasonCode.Success or MqttReasonCode.NoSubscriptionExisted
            or MqttReasonCode.UnspecifiedError or MqttReasonCode.ImplementationSpecificError or MqttReasonCode.NotAuthorized
            or MqttReasonCode.TopicFilterInvalid or MqttReasonCode.PacketIdentifierInUse,
        MqttPacketType.Disconnect => reasonCode is MqttReasonCode.NormalDisconnection or MqttReasonCode.DisconnectWithWillMessage
            or (>= MqttReasonCode.UnspecifiedError and <= MqttReasonCode.ImplementationSpecificError)
            or MqttReasonCode.NotAuthorized or MqttReasonCode.ServerBusy
            or (>= MqttReasonCode.ServerShuttingDown and <= MqttReasonCode.WildcardSubscriptionsNotSupported
                and not MqttReasonCode.BadAuthenticationMethod and not MqttReasonCode.PacketIdentifierInUse
                and not MqttReasonCode.PacketIdentifierNotFound),
        MqttPacketType.Auth => reasonCode is MqttReasonCode.Success or MqttReasonCode.ContinueAuthentication or MqttReasonCode.ReAuthenticate,
        _ => false,
    };

    internal static void Validate(MqttPacketType packetType, MqttReasonCode reasonCode)
    {
        if (!IsValidFor(packetType, reasonCode))
        {
            MqttThrow.Malformed($"Reason code 0x{(byte)reasonCode:X2} is not valid in {packetType}.");
        }
    }
}
