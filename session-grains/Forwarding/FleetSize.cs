using System.Text;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The fleet codec's version, limits and size pass. Every string in a unit is an MQTT string and every
/// binary field MQTT binary data, so they keep MQTT's limits; lengths, counts and entries keep the
/// variable byte integer's range (MQTT's largest packet). The size pass refuses (with an
/// <see cref="ArgumentException"/>) what the reader would refuse, before anything is written.
/// </summary>
internal static class FleetSize
{
    /// <summary>The leading byte of every unit (forwarded entry, delivery, subscription list, handover).</summary>
    public const byte FormatVersion = 1;

    public const int MaxStringBytes = ushort.MaxValue;

    public const int MaxBinaryBytes = ushort.MaxValue;

    /// <summary>A payload, and a whole forwarded entry after its length.</summary>
    public const int MaxLength = MqttVariableByteInteger.MaxValue;

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

    public static int VarInt(int value) => MqttVariableByteInteger.GetSize(value);

    public static int String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A fleet string, like an MQTT string, holds no U+0000.", nameof(value));
        }

        var count = Utf8.GetByteCount(value);
        if (count > MaxStringBytes)
        {
            throw new ArgumentException($"A fleet string holds at most {MaxStringBytes} UTF-8 bytes, got {count}.", nameof(value));
        }

        return VarInt(count) + count;
    }

    public static int OptionalString(string? value) => value is null ? 0 : String(value);

    public static int Bytes(int length, int max)
    {
        if (length > max)
        {
            throw new ArgumentException($"A fleet byte field holds at most {max} bytes, got {length}.", nameof(length));
        }

        return VarInt(length) + length;
    }

    public static int Count(int count)
    {
        if (count > MaxCount)
        {
            throw new ArgumentException($"A fleet list holds at most {MaxCount} elements, got {count}.", nameof(count));
        }

        return VarInt(count);
    }

    /// <summary>A subscription identifier, a variable byte integer as in MQTT (0 for none in a subscription's options).</summary>
    public static int SubscriptionIdentifier(uint value) =>
        value <= MqttVariableByteInteger.MaxValue
            ? VarInt((int)value)
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A subscription identifier is at most 268435455.");
}
