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
        var copy = reader;
        if (!copy.TryRead(out var first))
            return false;

        var type = (MlpFrameType)(first >> 4);
        if (!IsDefined(type))
            throw new MlpProtocolException(MlpErrorCode.UnknownFrameType, $"Frame type 0x{(int)type:X} is reserved.");

        var length = 0;
        for (var i = 0; ; i++)
        {
            if (!copy.TryRead(out var b))
                return false;
            length |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "Frame length is not minimally encoded.");
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
        if (copy.Remaining < length)
            return false;

        var payload = copy.UnreadSequence.Slice(0, length);
        copy.Advance(length);
        frame = new MlpFrame(type, (MlpFrameFlags)(first & 0x0F), payload);
        reader = copy;
        return true;
    }

    public static bool IsDefined(MlpFrameType type) => type is >= MlpFrameType.Request and <= MlpFrameType.Error;

    private static MlpProtocolException TooLarge(MlpFrameType type, long length, int maxFrameSize) =>
        new(MlpErrorCode.FrameTooLarge, $"{type} frame declares at least {length} bytes; the limit is {maxFrameSize}.");
}
