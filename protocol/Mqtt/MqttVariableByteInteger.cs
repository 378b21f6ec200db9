using System.Buffers;
using System.Runtime.CompilerServices;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>The MQTT variable byte integer: 7 bits per byte, little-endian groups, at most 4 bytes (0..268,435,455).</summary>
public static class MqttVariableByteInteger
{
    public const int MaxValue = 268_435_455;

    public const int MaxSize = 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetSize(int value)
    {
        if ((uint)value > MaxValue)
        {
            ThrowOutOfRange(value);
        }

        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    /// <summary>Writes <paramref name="value"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, int value)
    {
        if ((uint)value > MaxValue)
        {
            ThrowOutOfRange(value);
        }

        var i = 0;
        var v = (uint)value;
        do
        {
            var b = (byte)(v & 0x7F);
            v >>= 7;
            if (v != 0)
            {
                b |= 0x80;
            }

            destination[i++] = b;
        }
        while (v != 0);

        return i;
    }

    /// <summary>
    /// Reads one integer. False when the input ends before the last byte (reader not advanced);
    /// throws MalformedPacket when a fifth byte would be needed.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out int value, out int size)
    {
        var copy = reader;
        var result = 0;
        for (var i = 0; i < MaxSize; i++)
        {
            if (!copy.TryRead(out var b))
            {
                value = 0;
                size = 0;
                return false;
            }

            result |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                reader = copy;
                value = result;
                size = i + 1;
                return true;
            }
        }

        MqttThrow.Malformed("Variable byte integer longer than 4 bytes.");
        value = 0;
        size = 0;
        return false;
    }

    private static void ThrowOutOfRange(int value) =>
        throw new ArgumentOutOfRangeException(nameof(value), value, "A variable byte integer holds 0..268435455.");
}
