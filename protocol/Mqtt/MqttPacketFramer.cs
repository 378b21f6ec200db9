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
        if ((long)headerLength + remainingLength > maxPacketSize)
        {
            MqttThrow.With(
                MqttReasonCode.PacketTooLarge,
                $"Packet of {headerLength + remainingLength} bytes exceeds the maximum packet size {maxPacketSize}.");
        }

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

    /// <summary>Convenience over a whole buffer: frames one packet from its start, consumed bytes through <paramref name="consumed"/>.</summary>
    public static bool TryReadFrame(in ReadOnlySequence<byte> buffer, int maxPacketSize, out MqttFixedHeader header, out ReadOnlySequence<byte> body, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var ok = TryReadFrame(ref reader, maxPacketSize, out header, out body);
        consumed = reader.Position;
        return ok;
    }
}
