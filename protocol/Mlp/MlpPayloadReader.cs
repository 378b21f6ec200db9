using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>Field reads inside a complete payload: running out of bytes is a malformed frame, not "need more".</summary>
internal static class MlpPayloadReader
{
    public static ulong ReadVarint(ref SequenceReader<byte> reader, int maxBytes, MlpFrameType type, string field)
    {
        if (!MlpVarint.TryRead(ref reader, maxBytes, out var value))
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"{type} payload ends inside {field}.");
        return value;
    }

    public static uint ReadStreamId(ref SequenceReader<byte> reader, MlpFrameType type)
    {
        var value = ReadVarint(ref reader, MlpVarint.MaxLength32, type, "the stream id");
        if (value is 0 or > MlpLimits.MaxStreamId)
            throw new MlpProtocolException(MlpErrorCode.InvalidStream, $"{type} stream id {value} is outside 1..2^31-1.");
        return (uint)value;
    }

    /// <summary>Reads <c>varint length</c> then that many bytes.</summary>
    public static ReadOnlySequence<byte> ReadBlock(ref SequenceReader<byte> reader, MlpFrameType type, string field)
    {
        // No string building here: this runs for every frame.
        var length = ReadVarint(ref reader, MlpVarint.MaxLength32, type, field);
        if (length > (ulong)reader.Remaining)
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"{type} {field} length {length} exceeds the payload.");
        var start = reader.Position;
        reader.Advance((long)length);
        return reader.Sequence.Slice(start, reader.Position);
    }

    public static void Expect(in MlpFrame frame, MlpFrameType type)
    {
        if (frame.Type != type)
            throw new ArgumentException($"Expected a {type} frame, got {frame.Type}.", nameof(frame));
    }
}
