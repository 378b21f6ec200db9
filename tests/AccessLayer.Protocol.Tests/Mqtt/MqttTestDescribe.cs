using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>
/// A canonical text form of any decoded packet (public properties, bytes as hex, lists in order), so
/// round-trip tests compare whole packets and a failure prints the difference.
/// </summary>
internal static class MqttTestDescribe
{
    public static string Of(object? value)
    {
        var builder = new StringBuilder();
        Append(builder, value);
        return builder.ToString();
    }

    /// <summary>A decoded PUBLISH, with its slices and property enumerators flattened.</summary>
    public static string Of(in MqttPublishPacket packet)
    {
        var subscriptionIds = new List<uint>();
        foreach (var id in packet.SubscriptionIdentifiers)
        {
            subscriptionIds.Add(id);
        }

        var userProperties = new List<MqttUserProperty>();
        foreach (var property in packet.UserProperties)
        {
            userProperties.Add(property.ToUserProperty());
        }

        return Of(new
        {
            packet.QualityOfService,
            packet.Retain,
            packet.Dup,
            packet.PacketId,
            Topic = Hex(packet.TopicName.ToArray()),
            Payload = Hex(packet.Payload.ToArray()),
            packet.PayloadFormatIndicator,
            packet.MessageExpiryInterval,
            packet.TopicAlias,
            ContentType = packet.HasContentType ? Hex(packet.ContentType.ToArray()) : null,
            ResponseTopic = packet.HasResponseTopic ? Hex(packet.ResponseTopic.ToArray()) : null,
            CorrelationData = packet.HasCorrelationData ? Hex(packet.CorrelationData.ToArray()) : null,
            packet.SubscriptionIdentifierCount,
            SubscriptionIdentifiers = subscriptionIds,
            packet.UserPropertyCount,
            UserProperties = userProperties,
        });
    }

    public static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    private static void Append(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                return;
            case string s:
                builder.Append('"').Append(s).Append('"');
                return;
            case byte[] bytes:
                builder.Append("0x").Append(Hex(bytes));
                return;
            case ReadOnlyMemory<byte> memory:
                builder.Append("0x").Append(Hex(memory.ToArray()));
                return;
            case ReadOnlySequence<byte> sequence:
                builder.Append("0x").Append(Hex(sequence.ToArray()));
                return;
            case Enum or bool or char:
                builder.Append(value);
                return;
            case IFormattable formattable when value.GetType().IsPrimitive:
                builder.Append(formattable.ToString(null, CultureInfo.InvariantCulture));
                return;
            case IEnumerable items:
                builder.Append('[');
                foreach (var item in items)
                {
                    Append(builder, item);
                    builder.Append(',');
                }

                builder.Append(']');
                return;
        }

        builder.Append('{');
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            builder.Append(property.Name).Append('=');
            Append(builder, property.GetValue(value));
            builder.Append(';');
        }

        builder.Append('}');
    }
}
