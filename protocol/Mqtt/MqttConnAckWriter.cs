using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes CONNACK (spec 3.2); on 3.1/3.1.1 the reason code becomes the nearest return code.</summary>
public static class MqttConnAckWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttConnAckPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        // MQTT 3.1 has no Session Present flag: that byte is reserved there.
        var sessionPresent = packet.SessionPresent && packet.ReasonCode == MqttReasonCode.Success && version != MqttProtocolVersion.V310;
        if (version != MqttProtocolVersion.V500)
        {
            var span = output.GetSpan(4);
            span[0] = (byte)MqttPacketType.ConnAck << 4;
            span[1] = 2;
            span[2] = sessionPresent ? (byte)1 : (byte)0;
            span[3] = (byte)packet.ReturnCode;
            output.Advance(4);
            return;
        }

        if ((byte)packet.MaximumQoS > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), packet.MaximumQoS, "Maximum QoS is 0, 1 or 2.");
        }

        var propertiesLength = PropertiesLength(packet);
        var remaining = 2 + MqttSize.PropertyBlock(propertiesLength);
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.ConnAck, 0, remaining);
        writer.WriteByte(sessionPresent ? (byte)1 : (byte)0);
        writer.WriteByte((byte)packet.ReasonCode);
        writer.WriteVariableByteInteger(propertiesLength);
        WriteProperties(ref writer, packet);
        writer.Complete(total);
        output.Advance(total);
    }

    private static int PropertiesLength(MqttConnAckPacket p)
    {
        var length = 0;
        length += p.SessionExpiryInterval.HasValue ? 5 : 0;
        length += p.ReceiveMaximum != ushort.MaxValue ? 3 : 0;
        length += p.MaximumQoS != MqttQualityOfService.ExactlyOnce ? 2 : 0;
        length += p.RetainAvailable ? 0 : 2;
        length += p.MaximumPacketSize.HasValue ? 5 : 0;
        length += MqttSize.StringProperty(p.AssignedClientIdentifier);
        length += p.TopicAliasMaximum != 0 ? 3 : 0;
        length += MqttSize.StringProperty(p.ReasonString);
        length += MqttSize.UserProperties(p.UserProperties);
        length += p.WildcardSubscriptionAvailable ? 0 : 2;
        length += p.SubscriptionIdentifiersAvailable ? 0 : 2;
        length += p.SharedSubscriptionAvailable ? 0 : 2;
        length += p.ServerKeepAlive.HasValue ? 3 : 0;
        length += MqttSize.StringProperty(p.ResponseInformation);
        length += MqttSize.StringProperty(p.ServerReference);
        length += MqttSize.StringProperty(p.AuthenticationMethod);
        length += MqttSize.BinaryProperty(p.AuthenticationData);
        return length;
    }

    private static void WriteProperties(ref MqttSpanWriter w, MqttConnAckPacket p)
    {
        if (p.SessionExpiryInterval is { } sessionExpiry)
        {
            w.WriteProperty(MqttPropertyId.SessionExpiryInterval, sessionExpiry);
        }

        if (p.ReceiveMaximum != ushort.MaxValue)
        {
            w.WriteProperty(MqttPropertyId.ReceiveMaximum, p.ReceiveMaximum);
        }

        if (p.MaximumQoS != MqttQualityOfService.ExactlyOnce)
        {
            w.WriteProperty(MqttPropertyId.MaximumQoS, (byte)p.MaximumQoS);
        }

        if (!p.RetainAvailable)
        {
            w.WriteProperty(MqttPropertyId.RetainAvailable, (byte)0);
        }

        if (p.MaximumPacketSize is { } maximumPacketSize)
        {
            w.WriteProperty(MqttPropertyId.MaximumPacketSize, maximumPacketSize);
        }

        if (p.AssignedClientIdentifier is not null)
        {
            w.WriteProperty(MqttPropertyId.AssignedClientIdentifier, p.AssignedClientIdentifier);
        }

        if (p.TopicAliasMaximum != 0)
        {
            w.WriteProperty(MqttPropertyId.TopicAliasMaximum, p.TopicAliasMaximum);
        }

        if (p.ReasonString is not null)
        {
            w.WriteProperty(MqttPropertyId.ReasonString, p.ReasonString);
        }

        w.WriteUserProperties(p.UserProperties);
        if (!p.WildcardSubscriptionAvailable)
        {
            w.WriteProperty(MqttPropertyId.WildcardSubscriptionAvailable, (byte)0);
        }

        if (!p.SubscriptionIdentifiersAvailable)
        {
            w.WriteProperty(MqttPropertyId.SubscriptionIdentifierAvailable, (byte)0);
        }

        if (!p.SharedSubscriptionAvailable)
        {
            w.WriteProperty(MqttPropertyId.SharedSubscriptionAvailable, (byte)0);
        }

        if (p.ServerKeepAlive is { } serverKeepAlive)
        {
            w.WriteProperty(MqttPropertyId.ServerKeepAlive, serverKeepAlive);
        }

        if (p.ResponseInformation is not null)
        {
            w.WriteProperty(MqttPropertyId.ResponseInformation, p.ResponseInformation);
        }

        if (p.ServerReference is not null)
        {
            w.WriteProperty(MqttPropertyId.ServerReference, p.ServerReference);
        }

        if (p.AuthenticationMethod is not null)
        {
            w.WriteProperty(MqttPropertyId.AuthenticationMethod, p.AuthenticationMethod);
        }

        if (p.AuthenticationData is not null)
        {
            w.WriteProperty(MqttPropertyId.AuthenticationData, p.AuthenticationData);
        }
    }
}
