using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes AUTH (spec 3.15, 5.0 only).</summary>
public static class MqttAuthWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttAuthPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (version != MqttProtocolVersion.V500)
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "AUTH exists only in MQTT 5.0.");
        }

        var propertiesLength = MqttSize.StringProperty(packet.AuthenticationMethod) + MqttSize.BinaryProperty(packet.AuthenticationData)
            + MqttSize.StringProperty(packet.ReasonString) + MqttSize.UserProperties(packet.UserProperties);
        var remaining = propertiesLength == 0 && packet.ReasonCode == MqttReasonCode.Success ? 0 : 1 + MqttSize.PropertyBlock(propertiesLength);
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.Auth, 0, remaining);
        if (remaining > 0)
        {
            writer.WriteByte((byte)packet.ReasonCode);
            writer.WriteVariableByteInteger(propertiesLength);
            if (packet.AuthenticationMethod is not null)
            {
                writer.WriteProperty(MqttPropertyId.AuthenticationMethod, packet.AuthenticationMethod);
            }

            if (packet.AuthenticationData is not null)
            {
                writer.WriteProperty(MqttPropertyId.AuthenticationData, packet.AuthenticationData);
            }

            if (packet.ReasonString is not null)
            {
                writer.WriteProperty(MqttPropertyId.ReasonString, packet.ReasonString);
            }

            writer.WriteUserProperties(packet.UserProperties);
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
