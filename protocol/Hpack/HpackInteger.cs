using System.Buffers;

namespace AccessLayer.Protocol.Hpack;

/// <summary>RFC 7541 §5.1 integers: an N-bit prefix, then 7-bit groups, least significant first.</summary>
internal static class HpackInteger
{
    /// <summary>Longest encoding of a non-negative int: the prefix octet plus five 7-bit groups.</summary>
    public const int MaxEncodedLength = 6;

    /// <summary>
    /// Writes <paramref name="value"/> with an N-bit prefix; <paramref name="pattern"/> holds the
    /// representation bits above the prefix. Returns the octets written.
    /// </summary>
    public static int Write(Span<byte> destination, int value, int prefixBits, byte pattern)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            destination[0] = (byte)(pattern | value);
            return 1;
        }

        destination[0] = (byte)(pattern | max);
        var rest = (uint)(value - max);
        var i = 1;
        while (rest >= 0x80)
        {
            destination[i++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        destination[i++] = (byte)rest;
        return i;
    }

    public static int EncodedLength(int value, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            return 1;
        }

        var rest = (uint)(value - max);
        var length = 2;
        while (rest >= 0x80)
        {
            rest >>= 7;
            length++;
        }

        return length;
    }

    /// <summary>
    /// Reads the integer whose prefix is in <paramref name="first"/> (already consumed) and whose
    /// continuation octets follow in <paramref name="reader"/>, in any segment layout.
    /// </summary>
    public static int Read(byte first, int prefixBits, ref SequenceReader<byte> reader)
    {
        var max = (1 << prefixBits) - 1;
        var value = (uint)(first & max);
        if (value < max)
        {
            return (int)value;
        }

        for (var shift = 0; ; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                throw new HpackDecodingException(HpackErrorKind.Truncated, "The header block ends inside an integer.");
            }

            // Five groups reach bit 35; anything beyond 31 bits (or a sixth group) is refused.
            var group = (ulong)(b & 0x7F) << shift;
            var sum = value + group;
            if (shift > 28 || sum > int.MaxValue)
            {
                throw new HpackDecodingException(HpackErrorKind.IntegerOverflow, "An HPACK integer exceeds 2^31 - 1.");
            }

            value = (uint)sum;
            if ((b & 0x80) == 0)
            {
                return (int)value;
            }
        }
    }
}
