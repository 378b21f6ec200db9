using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes CONNECT (spec 3.1), detecting MQTT 3.1, 3.1.1 or 5.0 from its variable header.</summary>
public static class MqttConnectDecoder
{
    private const string Context = "CONNECT";
    private const string WillContext = "CONNECT will properties";

    /// <summary>
    /// Reads only the protocol name and level, never throwing: lets a server answer a CONNECT it
    /// cannot decode with a CONNACK in the client's own version. False when not a known protocol.
    /// </summary>
    public static bool TryGetProtocolVersion(in ReadOnlySequence<byte> body, out MqttProtocolVersion version)
    {
        var reader = new SequenceReader<byte>(body);
        version = 0;
        if (!reader.TryReadBigEndian(out short nameLength) || nameLength is < 0 or > 6 || reader.Remaining < nameLength + 1)
        {
            return false;
        }

        Span<byte> name = stackalloc byte[6];
        name = name[..nameLength];
        reader.TryCopyTo(name);
        reader.Advance(nameLength);
        reader.TryRead(out var level);
        return TryMatch(name, level, out version);
    }

    public static MqttConnectPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body)
    {
        header.Validate(MqttPacketType.Connect);
        var reader = new MqttBodyReader(body);
        var name = reader.ReadBinary();
        var level = reader.ReadByte();
        Span<byte> nameBytes = stackalloc byte[6];
        if (name.Length > nameBytes.Length)
        {
            MqttThrow.With(MqttReasonCode.UnsupportedProtocolVersion, "Unknown protocol name.");
        }

        nameBytes = nameBytes[..(int)name.Length];
        name.CopyTo(nameBytes);
        if (!TryMatch(nameBytes, level, out var version))
        {
            MqttThrow.With(MqttReasonCode.UnsupportedProtocolVersion, $"Unsupported protocol level {level}.");
        }

        var v5 = version == MqttProtocolVersion.V500;
        var flags = reader.ReadByte();
        if ((flags & 0x01) != 0)
        {
            MqttThrow.Malformed("CONNECT reserved flag bit 0 must be 0.");
        }

        var cleanStart = (flags & 0x02) != 0;
        var hasWill = (flags & 0x04) != 0;
        var willQoS = (MqttQualityOfService)((flags >> 3) & 0x03);
        var willRetain = (flags & 0x20) != 0;
        var hasPassword = (flags & 0x40) != 0;
        var hasUserName = (flags & 0x80) != 0;
        if ((byte)willQoS == 3)
        {
            MqttThrow.Malformed("CONNECT will QoS 3 is invalid.");
        }

        if (!hasWill && (willQoS != 0 || willRetain))
        {
            MqttThrow.Malformed("CONNECT will QoS and will retain must be 0 without a will.");
        }

        if (!v5 && hasPassword && !hasUserName)
        {
            MqttThrow.Malformed("MQTT 3.1.1 CONNECT has a password without a user name.");
        }

        var keepAlive = reader.ReadUInt16();

        uint sessionExpiry = 0;
        ushort receiveMaximum = ushort.MaxValue, topicAliasMaximum = 0;
        uint? maximumPacketSize = null;
        bool requestResponse = false, requestProblem = true;
        List<MqttUserProperty>? userProperties = null;
        string? authMethod = null;
        byte[]? authData = null;
        if (v5)
        {
            var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Connect, MqttPropertySets.UserPropertyOnly, Context);
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
                    case MqttPropertyId.MaximumPacketSize:
                        maximumPacketSize = props.ReadUInt32();
                        if (maximumPacketSize == 0)
                        {
                            MqttThrow.Protocol("Maximum Packet Size must not be 0.");
                        }

                        break;
                    case MqttPropertyId.TopicAliasMaximum:
                        topicAliasMaximum = props.ReadUInt16();
                        break;
                    case MqttPropertyId.RequestResponseInformation:
                        requestResponse = props.ReadFlag(id);
                        break;
                    case MqttPropertyId.RequestProblemInformation:
                        requestProblem = props.ReadFlag(id);
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

            if (authData is not null && authMethod is null)
            {
                MqttThrow.Protocol("Authentication Data without an Authentication Method.");
            }
        }

        var clientId = reader.ReadString();
        if (clientId.Length == 0 && (version == MqttProtocolVersion.V310 || (version == MqttProtocolVersion.V311 && !cleanStart)))
        {
            MqttThrow.With(MqttReasonCode.ClientIdentifierNotValid, "An empty client identifier needs MQTT 3.1.1 with a clean session, or 5.0.");
        }

        var will = hasWill ? ReadWill(ref reader, v5, willQoS, willRetain) : null;
        var userName = hasUserName ? reader.ReadString() : null;
        var password = hasPassword ? reader.ReadBinaryArray() : null;
        reader.ExpectEnd(Context);

        return new MqttConnectPacket
        {
            ProtocolVersion = version,
            CleanStart = cleanStart,
            KeepAliveSeconds = keepAlive,
            ClientId = clientId,
            UserName = userName,
            Password = password,
            Will = will,
            SessionExpiryInterval = sessionExpiry,
            ReceiveMaximum = receiveMaximum,
            MaximumPacketSize = maximumPacketSize,
            TopicAliasMaximum = topicAliasMaximum,
            RequestResponseInformation = requestResponse,
            RequestProblemInformation = requestProblem,
            UserProperties = userProperties is null ? [] : userProperties,
            AuthenticationMethod = authMethod,
            AuthenticationData = authData,
        };
    }

    private static MqttWillMessage ReadWill(ref MqttBodyReader reader, bool v5, MqttQualityOfService qos, bool retain)
    {
        uint delay = 0;
        byte payloadFormat = 0;
        uint? expiry = null;
        string? contentType = null, responseTopic = null;
        byte[]? correlationData = null;
        List<MqttUserProperty>? userProperties = null;
        if (v5)
        {
            var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Will, MqttPropertySets.UserPropertyOnly, WillContext);
            while (props.TryReadNext(out var id))
            {
                switch (id)
                {
                    case MqttPropertyId.WillDelayInterval:
                        delay = props.ReadUInt32();
                        break;
                    case MqttPropertyId.PayloadFormatIndicator:
                        payloadFormat = props.ReadFlag(id) ? (byte)1 : (byte)0;
                        break;
                    case MqttPropertyId.MessageExpiryInterval:
                        expiry = props.ReadUInt32();
                        break;
                    case MqttPropertyId.ContentType:
                        contentType = props.ReadString();
                        break;
                    case MqttPropertyId.ResponseTopic:
                        responseTopic = props.ReadString();
                        if (!MqttTopic.IsValidTopicName(responseTopic))
                        {
                            MqttThrow.Protocol("Will Response Topic must be a topic name without wildcards.");
                        }

                        break;
                    case MqttPropertyId.CorrelationData:
                        correlationData = props.ReadBinaryArray();
                        break;
                    default:
                        (userProperties ??= []).Add(props.ReadUserProperty());
                        break;
                }
            }
        }

        var topic = reader.ReadString();
        if (!MqttTopic.IsValidTopicName(topic))
        {
            MqttThrow.With(MqttReasonCode.TopicNameInvalid, "Will topic must be a non-empty topic name without wildcards.");
        }

        var payload = reader.ReadBinaryArray();
        return new MqttWillMessage
        {
            Topic = topic,
            Payload = payload,
            QualityOfService = qos,
            Retain = retain,
            WillDelayInterval = delay,
            PayloadFormatIndicator = payloadFormat,
            MessageExpiryInterval = expiry,
            ContentType = contentType,
            ResponseTopic = responseTopic,
            CorrelationData = correlationData ?? ReadOnlyMemory<byte>.Empty,
            UserProperties = userProperties is null ? [] : userProperties,
        };
    }

    private static bool TryMatch(ReadOnlySpan<byte> name, byte level, out MqttProtocolVersion version)
    {
        version = (MqttProtocolVersion)level;
        return level switch
        {
            (byte)MqttProtocolVersion.V311 or (byte)MqttProtocolVersion.V500 => name.SequenceEqual("MQTT"u8),
            (byte)MqttProtocolVersion.V310 => name.SequenceEqual("MQIsdp"u8),
            _ => false,
        };
    }
}
