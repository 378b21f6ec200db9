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
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, MaxLength64);
        var unread = reader.UnreadSpan;
        if (TryParse(unread, maxBytes, out value, out var consumed))
        {
            reader.Advance(consumed);
            return true;
        }

        // The varint may straddle a segment boundary: gather its bytes.
        var available = (int)Math.Min(reader.Remaining, maxBytes);
        if (available <= unread.Length)
            return false;
        Span<byte> gathered = stackalloc byte[MaxLength64];
        reader.TryCopyTo(gathered[..available]);
        if (!TryParse(gathered[..available], maxBytes, out value, out consumed))
            return false;
        reader.Advance(consumed);
        return true;
    }

    /// <summary>Span form of <see cref="TryRead"/>: false when <paramref name="source"/> ends inside the varint.</summary>
    public static bool TryParse(ReadOnlySpan<byte> source, int maxBytes, out ulong value, out int consumed)
    {
        value = 0;
        consumed = 0;
        var limit = Math.Min(source.Length, maxBytes);
        for (var i = 0; i < limit; i++)
        {
            var b = source[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Varint is not minimally encoded.");
                if (i == MaxLength64 - 1 && b > 1)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Varint overflows 64 bits.");
                consumed = i + 1;
                return true;
            }
        }

        if (source.Length >= maxBytes)
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"Varint longer than {maxBytes} bytes.");
        value = 0;
        return false;
    }
}
