using System.Text;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The fleet codec's version, limits and size pass. Every string in a unit is an MQTT string and every
/// binary field MQTT binary data, so they keep MQTT's limits; a payload keeps MQTT's largest packet.
/// The writer refuses (with an <see cref="ArgumentException"/>) what the reader would refuse.
/// </summary>
internal static class FleetSize
{
    /// <summary>The leading byte of every unit (forwarded entry, delivery, subscription list, handover).</summary>
    public const byte FormatVersion = 1;

    public const int MaxStringBytes = ushort.MaxValue;

    public const int MaxBinaryBytes = ushort.MaxValue;

    public const int MaxPayloadBytes = MqttVariableByteInteger.MaxValue;

    /// <summary>Elements in any one list (share groups, user properties, subscription identifiers, subscriptions, inflight, queued, packet ids).</summary>
    public const int MaxCount = 1 << 20;

    // Fewest bytes an element can take: what a count is checked against before its array is allocated.
    public const int MinString = 1;
    public const int MinUserProperty = 2;
    public const int MinVarint = 1;
    public const int MinPacketId = 2;
    public const int MinSubscription = 3;
    public const int MinMessage = 6;
    public const int MinDelivery = 2 + MinMessage;
    public const int MinInflight = 3 + MinDelivery;

    /// <summary>Strict UTF-8: a string with a lone surrogate is refused rather than silently changed.</summary>
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static int VarUInt32(uint value) => MlpVarint.GetByteCount(value);

    public static int String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = Utf8.GetByteCount(value);
        if (count > MaxStringBytes)
        {
            throw new ArgumentException($"A fleet string holds at most {MaxStringBytes} UTF-8 bytes, got {count}.", nameof(value));
        }

        return VarUInt32((uint)count) + count;
    }

    public static int OptionalString(string? value) => value is null ? 0 : String(value);

    public static int Bytes(int length, int max)
    {
        if (length > max)
        {
            throw new ArgumentException($"A fleet byte field holds at most {max} bytes, got {length}.", nameof(length));
        }

        return VarUInt32((uint)length) + length;
    }

    public static int Count(int count)
    {
        if (count > MaxCount)
        {
            throw new ArgumentException($"A fleet list holds at most {MaxCount} elements, got {count}.", nameof(count));
        }

        return VarUInt32((uint)count);
    }
}
