using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes DISCONNECT (spec 3.14) in its shortest form: 3.1.1 and a bare 5.0 normal disconnection are two bytes.</summary>
public static class MqttDisconnectWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttDisconnectPacket? packet = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var v5 = version == MqttProtocolVersion.V500;
        var propertiesLength = 0;
        if (v5 && packet is not null)
        {
            propertiesLength = (packet.SessionExpiryInterval.HasValue ? 5 : 0)
                + MqttSize.StringProperty(packet.ReasonString)
                + MqttSize.StringProperty(packet.ServerReference)
                + MqttSize.UserProperties(packet.UserProperties);
        }

        var remaining = !v5 || packet is null ? 0
            : propertiesLength > 0 ? 1 + MqttSize.PropertyBlock(propertiesLength)
            : packet.ReasonCode != MqttReasonCode.NormalDisconnection ? 1
            : 0;
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.Disconnect, 0, remaining);
        if (remaining > 0)
        {
            writer.WriteByte((byte)packet!.ReasonCode);
        }

        if (propertiesLength > 0)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            if (packet!.SessionExpiryInterval is { } sessionExpiry)
            {
                writer.WriteProperty(MqttPropertyId.SessionExpiryInterval, sessionExpiry);
            }

            if (packet.ReasonString is not null)
            {
                writer.WriteProperty(MqttPropertyId.ReasonString, packet.ReasonString);
            }

            if (packet.ServerReference is not null)
            {
                writer.WriteProperty(MqttPropertyId.ServerReference, packet.ServerReference);
            }

            writer.WriteUserProperties(packet.UserProperties);
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
