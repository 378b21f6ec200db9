using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// Unsigned LEB128 (the protobuf varint): 7 bits per byte, least significant group first,
/// high bit set on every byte but the last. MLP requires the shortest encoding, so a
/// multi-byte varint never ends in 0x00.
/// </summary>
public static class MlpVarint
{
    public const int MaxLength32 = 5;

    public const int MaxLength64 = 10;

    public static int GetByteCount(ulong value)
    {
        var count = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            count++;
        }

        return count;
    }

    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Reads a varint of at most <paramref name="maxBytes"/> bytes. False (reader unmoved)
    /// when the bytes end before the varint does; <see cref="MlpProtocolException"/>
    /// (MalformedFrame) when it is too long or not minimal.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> reader, int maxBytes, out ulong value)
    {
        value = 0;
        var copy = reader;
        for (var i = 0; i < maxBytes; i++)
        {
            if (!copy.TryRead(out var b))
                return false;
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Varint is not minimally encoded.");
                if (i == MaxLength64 - 1 && b > 1)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Varint overflows 64 bits.");
                reader = copy;
                return true;
            }
        }

        throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"Varint longer than {maxBytes} bytes.");
    }
}
