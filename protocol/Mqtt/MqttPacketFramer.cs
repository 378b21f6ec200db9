using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Cuts whole control packets out of a byte stream, deciding the size limit from the fixed header alone.</summary>
public static class MqttPacketFramer
{
    /// <summary>
    /// False: more data is needed and <paramref name="reader"/> is not advanced. True: one whole packet,
    /// its fixed header and body slice, with the reader advanced past it. Throws
    /// <see cref="MqttProtocolException"/> with MalformedPacket for a bad variable byte integer, reserved
    /// type 0 or wrong reserved flags, and with PacketTooLarge when header + remaining length exceeds
    /// <paramref name="maxPacketSize"/>, before any of the body has to arrive.
    /// </summary>
    public static bool TryReadFrame(ref SequenceReader<byte> reader, int maxPacketSize, out MqttFixedHeader header, out ReadOnlySequence<byte> body)
    {
        // Fast path: the whole fixed header sits in the current segment (nearly always).
        var span = reader.UnreadSpan;
        if (TryParseHeader(span, out var fastType, out var fastFlags, out var fastLength, out var fastHeaderLength))
        {
            CheckSize(fastHeaderLength, fastLength, maxPacketSize);
            if (reader.Remaining < fastHeaderLength + fastLength)
            {
                header = default;
                body = default;
                return false;
            }

            body = reader.UnreadSequence.Slice(fastHeaderLength, fastLength);
            reader.Advance(fastHeaderLength + fastLength);
            header = new MqttFixedHeader(fastType, fastFlags, fastLength, fastHeaderLength);
            return true;
        }

        var copy = reader;
        if (!copy.TryRead(out var first))
        {
            header = default;
            body = default;
            return false;
        }

        var type = (MqttPacketType)(first >> 4);
        var flags = (byte)(first & 0x0F);
        MqttFixedHeader.ValidateTypeAndFlags(type, flags);

        if (!MqttVariableByteInteger.TryRead(ref copy, out var remainingLength, out var lengthSize))
        {
            header = default;
            body = default;
            return false;
        }

        var headerLength = 1 + lengthSize;
        CheckSize(headerLength, remainingLength, maxPacketSize);

        if (copy.Remaining < remainingLength)
        {
            header = default;
            body = default;
            return false;
        }

        body = copy.UnreadSequence.Slice(0, remainingLength);
        copy.Advance(remainingLength);
        reader = copy;
        header = new MqttFixedHeader(type, flags, remainingLength, headerLength);
        return true;
    }

    /// <summary>
    /// Parses a fixed header wholly inside <paramref name="span"/>. False when the span ends first (the
    /// caller then takes the segment-crossing path); throws on the same errors as the framer.
    /// </summary>
    private static bool TryParseHeader(ReadOnlySpan<byte> span, out MqttPacketType type, out byte flags, out int remainingLength, out int headerLength)
    {
        type = 0;
        flags = 0;
        remainingLength = 0;
        headerLength = 0;
        if (span.Length < 2)
        {
            return false;
        }

        var first = span[0];
        type = (MqttPacketType)(first >> 4);
        flags = (byte)(first & 0x0F);
        MqttFixedHeader.ValidateTypeAndFlags(type, flags);

        var value = 0;
        var limit = Math.Min(span.Length, 1 + MqttVariableByteInteger.MaxSize);
        for (var i = 1; i < limit; i++)
        {
            var b = span[i];
            value |= (b & 0x7F) << (7 * (i - 1));
            if ((b & 0x80) == 0)
            {
                remainingLength = value;
                headerLength = i + 1;
                return true;
            }
        }

        if (limit == 1 + MqttVariableByteInteger.MaxSize)
        {
            MqttThrow.Malformed("Variable byte integer longer than 4 bytes.");
        }

        return false;
    }

    private static void CheckSize(int headerLength, int remainingLength, int maxPacketSize)
    {
        if ((long)headerLength + remainingLength > maxPacketSize)
        {
            MqttThrow.With(
                MqttReasonCode.PacketTooLarge,
                $"Packet of {headerLength + remainingLength} bytes exceeds the maximum packet size {maxPacketSize}.");
        }
    }

    /// <summary>Convenience over a whole buffer: frames one packet from its start, consumed bytes through <paramref name="consumed"/>.</summary>
    public static bool TryReadFrame(in ReadOnlySequence<byte> buffer, int maxPacketSize, out MqttFixedHeader header, out ReadOnlySequence<byte> body, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var ok = TryReadFrame(ref reader, maxPacketSize, out header, out body);
        consumed = reader.Position;
        return ok;
    }
}
