using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>The property block of PUBACK/PUBREC/PUBREL/PUBCOMP/SUBACK/UNSUBACK: a reason string and user properties.</summary>
internal static class MqttAckProperties
{
    public static void Read(in ReadOnlySequence<byte> block, string context, out string? reasonString, out IReadOnlyList<MqttUserProperty>? userProperties)
    {
        reasonString = null;
        List<MqttUserProperty>? list = null;
        var props = new MqttPropertyReader(block, MqttPropertySets.Ack, MqttPropertySets.UserPropertyOnly, context);
        while (props.TryReadNext(out var id))
        {
            if (id == MqttPropertyId.ReasonString)
            {
                reasonString = props.ReadString();
            }
            else
            {
                (list ??= []).Add(props.ReadUserProperty());
            }
        }

        userProperties = list;
    }

    public static int Length(string? reasonString, IReadOnlyList<MqttUserProperty> userProperties) =>
        MqttSize.StringProperty(reasonString) + MqttSize.UserProperties(userProperties);

    public static void Write(ref MqttSpanWriter writer, string? reasonString, IReadOnlyList<MqttUserProperty> userProperties)
    {
        if (reasonString is not null)
        {
            writer.WriteProperty(MqttPropertyId.ReasonString, reasonString);
        }

        writer.WriteUserProperties(userProperties);
    }
}
