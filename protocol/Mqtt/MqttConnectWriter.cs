using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes CONNECT (spec 3.1) in the packet's own <see cref="MqttConnectPacket.ProtocolVersion"/>.</summary>
public static class MqttConnectWriter
{
    public static void Write(IBufferWriter<byte> output, MqttConnectPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        var version = packet.ProtocolVersion;
        if (version is not (MqttProtocolVersion.V310 or MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
        {
            throw new ArgumentOutOfRangeException(nameof(packet), version, "Unknown protocol version.");
        }

        var v5 = version == MqttProtocolVersion.V500;
        var will = packet.Will;
        if (!v5 && packet.Password is not null && packet.UserName is null)
        {
            throw new ArgumentException("MQTT 3.1.1 cannot send a password without a user name.", nameof(packet));
        }

        var protocolName = version == MqttProtocolVersion.V310 ? "MQIsdp"u8 : "MQTT"u8;
        var propertiesLength = v5 ? PropertiesLength(packet) : 0;
        var willPropertiesLength = v5 && will is not null ? WillPropertiesLength(will) : 0;

        var remaining = 2 + protocolName.Length + 1 + 1 + 2 + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0)
            + MqttSize.String(packet.ClientId);
        if (will is not null)
        {
            remaining += (v5 ? MqttSize.PropertyBlock(willPropertiesLength) : 0) + MqttSize.String(will.Topic) + MqttSize.Binary(will.Payload.Length);
        }

        if (packet.UserName is not null)
        {
            remaining += MqttSize.String(packet.UserName);
        }

        if (packet.Password is not null)
        {
            remaining += MqttSize.Binary(packet.Password.Length);
        }

        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.Connect, 0, remaining);
        writer.WriteBinary(protocolName);
        writer.WriteByte((byte)version);
        writer.WriteByte(Flags(packet));
        writer.WriteUInt16(packet.KeepAliveSeconds);
        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            WriteProperties(ref writer, packet);
        }

        writer.WriteString(packet.ClientId);
        if (will is not null)
        {
            if (v5)
            {
                writer.WriteVariableByteInteger(willPropertiesLength);
                WriteWillProperties(ref writer, will);
            }

            writer.WriteString(will.Topic);
            writer.WriteBinary(will.Payload.Span);
        }

        if (packet.UserName is not null)
        {
            writer.WriteString(packet.UserName);
        }

        if (packet.Password is not null)
        {
            writer.WriteBinary(packet.Password);
        }

        writer.Complete(total);
        output.Advance(total);
    }

    private static byte Flags(MqttConnectPacket packet)
    {
        var flags = 0;
        if (packet.CleanStart)
        {
            flags |= 0x02;
        }

        if (packet.Will is { } will)
        {
            if ((byte)will.QualityOfService > 2)
            {
                throw new ArgumentOutOfRangeException(nameof(packet), will.QualityOfService, "Will QoS is 0, 1 or 2.");
            }

            flags |= 0x04 | ((int)will.QualityOfService << 3) | (will.Retain ? 0x20 : 0);
        }

        if (packet.Password is not null)
        {
            flags |= 0x40;
        }

        if (packet.UserName is not null)
        {
            flags |= 0x80;
        }

        return (byte)flags;
    }

    private static int PropertiesLength(MqttConnectPacket packet)
    {
        var length = 0;
        if (packet.SessionExpiryInterval != 0)
        {
            length += 5;
        }

        if (packet.ReceiveMaximum != ushort.MaxValue)
        {
            length += 3;
        }

        if (packet.MaximumPacketSize.HasValue)
        {
            length += 5;
        }

        if (packet.TopicAliasMaximum != 0)
        {
            length += 3;
        }

        if (packet.RequestResponseInformation)
        {
            length += 2;
        }

        if (!packet.RequestProblemInformation)
        {
            length += 2;
        }

        return length + MqttSize.UserProperties(packet.UserProperties)
            + MqttSize.StringProperty(packet.AuthenticationMethod) + MqttSize.BinaryProperty(packet.AuthenticationData);
    }

    private static void WriteProperties(ref MqttSpanWriter writer, MqttConnectPacket packet)
    {
        if (packet.SessionExpiryInterval != 0)
        {
            writer.WriteProperty(MqttPropertyId.SessionExpiryInterval, packet.SessionExpiryInterval);
        }

        if (packet.ReceiveMaximum != ushort.MaxValue)
        {
            writer.WriteProperty(MqttPropertyId.ReceiveMaximum, packet.ReceiveMaximum);
        }

        if (packet.MaximumPacketSize is { } maximumPacketSize)
        {
            writer.WriteProperty(MqttPropertyId.MaximumPacketSize, maximumPacketSize);
        }

        if (packet.TopicAliasMaximum != 0)
        {
            writer.WriteProperty(MqttPropertyId.TopicAliasMaximum, packet.TopicAliasMaximum);
        }

        if (packet.RequestResponseInformation)
        {
            writer.WriteProperty(MqttPropertyId.RequestResponseInformation, (byte)1);
        }

        if (!packet.RequestProblemInformation)
        {
            writer.WriteProperty(MqttPropertyId.RequestProblemInformation, (byte)0);
        }

        writer.WriteUserProperties(packet.UserProperties);
        if (packet.AuthenticationMethod is not null)
        {
            writer.WriteProperty(MqttPropertyId.AuthenticationMethod, packet.AuthenticationMethod);
        }

        if (packet.AuthenticationData is not null)
        {
            writer.WriteProperty(MqttPropertyId.AuthenticationData, packet.AuthenticationData);
        }
    }

    private static int WillPropertiesLength(MqttWillMessage will)
    {
        var length = 0;
        if (will.WillDelayInterval != 0)
        {
            length += 5;
        }

        if (will.PayloadFormatIndicator != 0)
        {
            length += 2;
        }

        if (will.MessageExpiryInterval.HasValue)
        {
            length += 5;
        }

        length += MqttSize.StringProperty(will.ContentType) + MqttSize.StringProperty(will.ResponseTopic);
        if (!will.CorrelationData.IsEmpty)
        {
            length += 1 + MqttSize.Binary(will.CorrelationData.Length);
        }

        return length + MqttSize.UserProperties(will.UserProperties);
    }

    private static void WriteWillProperties(ref MqttSpanWriter writer, MqttWillMessage will)
    {
        if (will.WillDelayInterval != 0)
        {
            writer.WriteProperty(MqttPropertyId.WillDelayInterval, will.WillDelayInterval);
        }

        if (will.PayloadFormatIndicator != 0)
        {
            writer.WriteProperty(MqttPropertyId.PayloadFormatIndicator, will.PayloadFormatIndicator);
        }

        if (will.MessageExpiryInterval is { } expiry)
        {
            writer.WriteProperty(MqttPropertyId.MessageExpiryInterval, expiry);
        }

        if (will.ContentType is not null)
        {
            writer.WriteProperty(MqttPropertyId.ContentType, will.ContentType);
        }

        if (will.ResponseTopic is not null)
        {
            writer.WriteProperty(MqttPropertyId.ResponseTopic, will.ResponseTopic);
        }

        if (!will.CorrelationData.IsEmpty)
        {
            writer.WriteProperty(MqttPropertyId.CorrelationData, will.CorrelationData.Span);
        }

        writer.WriteUserProperties(will.UserProperties);
    }
}
