using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes CONNACK (spec 3.2).</summary>
public static class MqttConnAckDecoder
{
    private const string Context = "CONNACK";

    public static MqttConnAckPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.ConnAck);
        var reader = new MqttBodyReader(body);
        var ackFlags = reader.ReadByte();
        if ((ackFlags & 0xFE) != 0)
        {
            MqttThrow.Malformed("CONNACK acknowledge flags bits 7-1 are reserved.");
        }

        var sessionPresent = (ackFlags & 0x01) != 0;
        var code = reader.ReadByte();
        MqttReasonCode reasonCode;
        if (version != MqttProtocolVersion.V500)
        {
            if (code > (byte)MqttConnectReturnCode.NotAuthorized)
            {
                MqttThrow.Malformed($"CONNACK return code {code} is reserved.");
            }

            reasonCode = MqttReasonCodes.FromConnectReturnCode((MqttConnectReturnCode)code);
            CheckSessionPresent(sessionPresent, reasonCode);
            reader.ExpectEnd(Context);
            return new MqttConnAckPacket { SessionPresent = sessionPresent, ReasonCode = reasonCode };
        }

        reasonCode = (MqttReasonCode)code;
        MqttReasonCodes.Validate(MqttPacketType.ConnAck, reasonCode);
        CheckSessionPresent(sessionPresent, reasonCode);

        uint? sessionExpiry = null, maximumPacketSize = null;
        ushort receiveMaximum = ushort.MaxValue, topicAliasMaximum = 0;
        ushort? serverKeepAlive = null;
        var maximumQoS = MqttQualityOfService.ExactlyOnce;
        bool retainAvailable = true, wildcardAvailable = true, subscriptionIdsAvailable = true, sharedAvailable = true;
        string? assignedClientId = null, reasonString = null, responseInformation = null, serverReference = null, authMethod = null;
        byte[]? authData = null;
        List<MqttUserProperty>? userProperties = null;

        var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.ConnAck, MqttPropertySets.UserPropertyOnly, Context);
        while (props.TryReadNext(out var id))
        {
            switch (id)
            {
                case MqttPropertyId.SessionExpiryInterval:
                    sessionExpiry = props.ReadUInt32();
                    break;
                case MqttPropertyId.ReceiveMaximum:
                    receiveMaximum = props.ReadNonZeroUInt16(id);
                    break;
                case MqttPropertyId.MaximumQoS:
                    maximumQoS = props.ReadFlag(id) ? MqttQualityOfService.AtLeastOnce : MqttQualityOfService.AtMostOnce;
                    break;
                case MqttPropertyId.RetainAvailable:
                    retainAvailable = props.ReadFlag(id);
                    break;
                case MqttPropertyId.MaximumPacketSize:
                    maximumPacketSize = props.ReadUInt32();
                    if (maximumPacketSize == 0)
                    {
                        MqttThrow.Protocol("Maximum Packet Size must not be 0.");
                    }

                    break;
                case MqttPropertyId.AssignedClientIdentifier:
                    assignedClientId = props.ReadString();
                    break;
                case MqttPropertyId.TopicAliasMaximum:
                    topicAliasMaximum = props.ReadUInt16();
                    break;
                case MqttPropertyId.ReasonString:
                    reasonString = props.ReadString();
                    break;
                case MqttPropertyId.WildcardSubscriptionAvailable:
                    wildcardAvailable = props.ReadFlag(id);
                    break;
                case MqttPropertyId.SubscriptionIdentifierAvailable:
                    subscriptionIdsAvailable = props.ReadFlag(id);
                    break;
                case MqttPropertyId.SharedSubscriptionAvailable:
                    sharedAvailable = props.ReadFlag(id);
                    break;
                case MqttPropertyId.ServerKeepAlive:
                    serverKeepAlive = props.ReadUInt16();
                    break;
                case MqttPropertyId.ResponseInformation:
                    responseInformation = props.ReadString();
                    break;
                case MqttPropertyId.ServerReference:
                    serverReference = props.ReadString();
                    break;
                case MqttPropertyId.AuthenticationMethod:
                    authMethod = props.ReadString();
                    break;
                case MqttPropertyId.AuthenticationData:
                    authData = props.ReadBinaryArray();
                    break;
                default:
                    (userProperties ??= []).Add(props.ReadUserProperty());
                    break;
            }
        }

        reader.ExpectEnd(Context);
        return new MqttConnAckPacket
        {
            SessionPresent = sessionPresent,
            ReasonCode = reasonCode,
            SessionExpiryInterval = sessionExpiry,
            ReceiveMaximum = receiveMaximum,
            MaximumQoS = maximumQoS,
            RetainAvailable = retainAvailable,
            MaximumPacketSize = maximumPacketSize,
            AssignedClientIdentifier = assignedClientId,
            TopicAliasMaximum = topicAliasMaximum,
            ReasonString = reasonString,
            UserProperties = userProperties is null ? [] : userProperties,
            WildcardSubscriptionAvailable = wildcardAvailable,
            SubscriptionIdentifiersAvailable = subscriptionIdsAvailable,
            SharedSubscriptionAvailable = sharedAvailable,
            ServerKeepAlive = serverKeepAlive,
            ResponseInformation = responseInformation,
            ServerReference = serverReference,
            AuthenticationMethod = authMethod,
            AuthenticationData = authData,
        };
    }

    private static void CheckSessionPresent(bool sessionPresent, MqttReasonCode reasonCode)
    {
        if (sessionPresent && reasonCode != MqttReasonCode.Success)
        {
            MqttThrow.Protocol("A refused CONNACK must not set Session Present.");
        }
    }
}
