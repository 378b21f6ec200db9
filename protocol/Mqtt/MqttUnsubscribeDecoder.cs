using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes UNSUBSCRIBE (spec 3.10).</summary>
public static class MqttUnsubscribeDecoder
{
    private const string Context = "UNSUBSCRIBE";

    public static MqttUnsubscribePacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.Unsubscribe);
        var reader = new MqttBodyReader(body);
        var packetId = reader.ReadUInt16();
        if (packetId == 0)
        {
            MqttThrow.Protocol("UNSUBSCRIBE needs a non-zero packet identifier.");
        }

        List<MqttUserProperty>? userProperties = null;
        if (version == MqttProtocolVersion.V500)
        {
            var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Unsubscribe, MqttPropertySets.UserPropertyOnly, Context);
            while (props.TryReadNext(out _))
            {
                (userProperties ??= []).Add(props.ReadUserProperty());
            }
        }

        var filters = new List<string>();
        while (!reader.End)
        {
            filters.Add(reader.ReadString());
        }

        if (filters.Count == 0)
        {
            MqttThrow.Protocol("UNSUBSCRIBE carries no topic filter.");
        }

        return new MqttUnsubscribePacket
        {
            PacketId = packetId,
            UserProperties = userProperties is null ? [] : userProperties,
            TopicFilters = filters,
        };
    }
}
