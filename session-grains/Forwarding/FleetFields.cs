using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The fleet's fields over the MQTT data-type writer and reader (<see cref="MqttSpanWriter"/>,
/// <see cref="MqttBodyReader"/>): lengths and counts are MQTT variable byte integers, strings a variable
/// byte integer length then UTF-8 as MQTT allows it. Every length and count is checked against what is
/// left (and against <see cref="FleetSize"/>'s limits) before anything is allocated.
/// </summary>
internal static class FleetFields
{
    public const int GuidSize = 16;

    public static void WriteString(ref MqttSpanWriter writer, string value)
    {
        writer.WriteVariableByteInteger(FleetSize.Utf8.GetByteCount(value));
        writer.WriteUtf8(value);
    }

    public static void WriteLengthPrefixed(ref MqttSpanWriter writer, ReadOnlySpan<byte> value)
    {
        writer.WriteVariableByteInteger(value.Length);
        writer.WriteBytes(value);
    }

    public static void WriteGuid(ref MqttSpanWriter writer, Guid value)
    {
        Span<byte> bytes = stackalloc byte[GuidSize];
        value.TryWriteBytes(bytes);
        writer.WriteBytes(bytes);
    }

    /// <summary>The leading format-version byte of a unit; anything but <see cref="FleetSize.FormatVersion"/> is refused.</summary>
    public static void ReadVersion(ref MqttBodyReader reader, string unit)
    {
        var version = reader.ReadByte();
        if (version != FleetSize.FormatVersion)
        {
            Throw($"{unit} has format version {version}; this node reads version {FleetSize.FormatVersion}.");
        }
    }

    /// <summary>A byte count of at most <paramref name="max"/> that must fit in what is left.</summary>
    public static int ReadLength(ref MqttBodyReader reader, int max)
    {
        var length = reader.ReadVariableByteInteger();
        if (length > max)
        {
            Throw($"A length of {length} bytes exceeds the limit {max}.");
        }

        if (length > reader.Remaining)
        {
            ThrowTruncated();
        }

        return length;
    }

    /// <summary>
    /// An element count, refused when above <see cref="FleetSize.MaxCount"/> or when that many elements of
    /// at least <paramref name="minimumElementSize"/> bytes cannot fit in what is left, so the array it
    /// sizes is bounded by the input.
    /// </summary>
    public static int ReadCount(ref MqttBodyReader reader, int minimumElementSize)
    {
        var count = reader.ReadVariableByteInteger();
        if (count > FleetSize.MaxCount)
        {
            Throw($"A count of {count} exceeds the limit {FleetSize.MaxCount}.");
        }

        if (count > reader.Remaining / minimumElementSize)
        {
            ThrowTruncated();
        }

        return count;
    }

    /// <summary>Reads a count (<see cref="ReadCount"/>) and returns the array its elements go into; none share the empty array.</summary>
    public static T[] ArrayForCount<T>(ref MqttBodyReader reader, int minimumElementSize)
    {
        var count = ReadCount(ref reader, minimumElementSize);
        return count == 0 ? [] : new T[count];
    }

    /// <summary>Length-prefixed bytes as a slice of the input (no copy): units are read from one contiguous memory.</summary>
    public static ReadOnlyMemory<byte> ReadMemory(ref MqttBodyReader reader, int maxLength) =>
        reader.ReadSlice(ReadLength(ref reader, maxLength)).First;

    /// <summary>A length-prefixed string, refused unless it is well-formed UTF-8 without U+0000 (MQTT 1.5.4).</summary>
    public static string ReadString(ref MqttBodyReader reader)
    {
        var utf8 = reader.ReadSlice(ReadLength(ref reader, FleetSize.MaxStringBytes));
        MqttUtf8.Validate(utf8);
        return MqttUtf8.GetString(utf8);
    }

    public static Guid ReadGuid(ref MqttBodyReader reader) => new(reader.ReadSlice(GuidSize).FirstSpan);

    /// <summary>Runs <paramref name="read"/> over one whole unit: version byte first, nothing after it, every failure a <see cref="FleetCodecException"/>.</summary>
    public static T ReadUnit<T>(ReadOnlyMemory<byte> data, string unit, UnitReader<T> read)
    {
        try
        {
            var reader = new MqttBodyReader(new ReadOnlySequence<byte>(data));
            ReadVersion(ref reader, unit);
            var value = read(ref reader);
            reader.ExpectEnd(unit);
            return value;
        }
        catch (MqttProtocolException e)
        {
            throw new FleetCodecException(e.Message, e);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string message) => throw new FleetCodecException(message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated() => throw new FleetCodecException("A declared length runs past the end of the data.");

    public delegate T UnitReader<out T>(ref MqttBodyReader reader);
}
