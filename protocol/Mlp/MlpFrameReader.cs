using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// Reads frames: <c>type:4 | flags:4</c>, a varint payload length (at most 4 bytes,
/// minimal), then the payload. The length is checked against the limit as soon as the
/// varint is known (earlier, when its continuation bits already imply too much), so an
/// oversized frame fails on its header without the payload ever being buffered.
/// </summary>
public static class MlpFrameReader
{
    private const int MaxLengthBytes = 4;

    /// <summary>
    /// True and the reader advanced past the frame when a whole frame is buffered; false and
    /// the reader unmoved when more bytes are needed. Throws <see cref="MlpProtocolException"/>
    /// (a connection error) for reserved types, bad length encodings and lengths over
    /// <paramref name="maxFrameSize"/>. The payload is a slice of the reader's sequence.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> reader, int maxFrameSize, out MlpFrame frame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameSize, MlpLimits.AbsoluteMaxFrameSize);
        frame = default;

        // The header is at most 5 bytes; parse it from the current segment when it is there.
        scoped var header = reader.UnreadSpan;
        var available = (int)Math.Min(reader.Remaining, MlpLimits.MaxFrameHeaderSize);
        Span<byte> gathered = stackalloc byte[MlpLimits.MaxFrameHeaderSize];
        if (header.Length < available)
        {
            reader.TryCopyTo(gathered[..available]);
            header = gathered[..available];
        }

        if (!TryParseHeader(header, maxFrameSize, out var type, out var flags, out var length, out var headerLength))
            return false;
        if (reader.Remaining - headerLength < length)
            return false;

        reader.Advance(headerLength);
        var start = reader.Position;
        reader.Advance(length);
        frame = new MlpFrame(type, flags, reader.Sequence.Slice(start, reader.Position));
        return true;
    }

    /// <summary>
    /// Parses a frame header from its first bytes: false when they end before the length
    /// varint does; throws for reserved types, bad varints and lengths over the limit.
    /// </summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> source, int maxFrameSize, out MlpFrameType type, out MlpFrameFlags flags, out int payloadLength, out int headerLength)
    {
        type = default;
        flags = default;
        payloadLength = 0;
        headerLength = 0;
        if (source.IsEmpty)
            return false;

        type = (MlpFrameType)(source[0] >> 4);
        flags = (MlpFrameFlags)(source[0] & 0x0F);
        if (!IsDefined(type))
            throw new MlpProtocolException(MlpErrorCode.UnknownFrameType, $"Frame type 0x{(int)type:X} is reserved.");

        var length = 0;
        for (var i = 0; ; i++)
        {
            if (1 + i >= source.Length)
                return false;
            var b = source[1 + i];
            length |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Frame length is not minimally encoded.");
                headerLength = 2 + i;
                break;
            }

            if (i == MaxLengthBytes - 1)
                throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Frame length varint is longer than 4 bytes.");
            // Minimal encoding: another byte means the length is at least 2^(7(i+1)).
            if (1L << (7 * (i + 1)) > maxFrameSize)
                throw TooLarge(type, 1L << (7 * (i + 1)), maxFrameSize);
        }

        if (length > maxFrameSize)
            throw TooLarge(type, length, maxFrameSize);
        payloadLength = length;
        return true;
    }

    public static bool IsDefined(MlpFrameType type) => type is >= MlpFrameType.Request and <= MlpFrameType.Error;

    private static MlpProtocolException TooLarge(MlpFrameType type, long length, int maxFrameSize) =>
        new(MlpErrorCode.FrameTooLarge, $"{type} frame declares at least {length} bytes; the limit is {maxFrameSize}.");
}
