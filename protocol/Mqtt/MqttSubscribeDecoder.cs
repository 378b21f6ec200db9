using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes SUBSCRIBE (spec 3.8).</summary>
public static class MqttSubscribeDecoder
{
    private const string Context = "SUBSCRIBE";

    public static MqttSubscribePacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.Subscribe);
        var v5 = version == MqttProtocolVersion.V500;
        var reader = new MqttBodyReader(body);
        var packetId = reader.ReadUInt16();
        if (packetId == 0)
        {
            MqttThrow.Protocol("SUBSCRIBE needs a non-zero packet identifier.");
        }

        uint? subscriptionId = null;
        List<MqttUserProperty>? userProperties = null;
        if (v5)
        {
            var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Subscribe, MqttPropertySets.UserPropertyOnly, Context);
            while (props.TryReadNext(out var id))
            {
                if (id == MqttPropertyId.SubscriptionIdentifier)
                {
                    subscriptionId = (uint)props.ReadSubscriptionIdentifier();
                }
                else
                {
                    (userProperties ??= []).Add(props.ReadUserProperty());
                }
            }
        }

        var subscriptions = new List<MqttTopicSubscription>();
        while (!reader.End)
        {
            var filter = reader.ReadString();
            var options = reader.ReadByte();
            var qos = (MqttQualityOfService)(options & 0x03);
            if (!v5)
            {
                if ((options & 0xFC) != 0 || (byte)qos == 3)
                {
                    MqttThrow.Malformed("SUBSCRIBE requested QoS must be 0, 1 or 2 with the upper six bits 0.");
                }

                subscriptions.Add(new MqttTopicSubscription(filter, qos));
                continue;
            }

            if ((options & 0xC0) != 0)
            {
                MqttThrow.Malformed("SUBSCRIBE subscription options bits 7-6 are reserved.");
            }

            if ((byte)qos == 3)
            {
                MqttThrow.Protocol("SUBSCRIBE Maximum QoS 3 is invalid.");
            }

            var noLocal = (options & 0x04) != 0;
            var retainAsPublished = (options & 0x08) != 0;
            var retainHandling = (MqttRetainHandling)((options >> 4) & 0x03);
            if ((byte)retainHandling == 3)
            {
                MqttThrow.Protocol("SUBSCRIBE Retain Handling 3 is invalid.");
            }

            if (noLocal && MqttTopic.IsSharedSubscription(filter))
            {
                MqttThrow.Protocol("No Local must not be set on a shared subscription.");
            }

            subscriptions.Add(new MqttTopicSubscription(filter, qos, noLocal, retainAsPublished, retainHandling));
        }

        if (subscriptions.Count == 0)
        {
            MqttThrow.Protocol("SUBSCRIBE carries no topic filter.");
        }

        return new MqttSubscribePacket
        {
            PacketId = packetId,
            SubscriptionIdentifier = subscriptionId,
            UserProperties = userProperties is null ? [] : userProperties,
            Subscriptions = subscriptions,
        };
    }
}
