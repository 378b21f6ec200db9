using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// REQUEST payload: <c>varint stream_id | varint header_block_length | header_block | body</c>.
/// The body runs to the end of the payload; header block and body are slices, not copies.
/// </summary>
public readonly struct MlpRequestFrame
{
    public MlpRequestFrame(uint streamId, MlpFrameFlags flags, ReadOnlySequence<byte> headerBlock, ReadOnlySequence<byte> body)
    {
        StreamId = streamId;
        Flags = flags;
        HeaderBlock = headerBlock;
        Body = body;
    }

    public uint StreamId { get; }

    public MlpFrameFlags Flags { get; }

    /// <summary>An HPACK block in the client-to-server context.</summary>
    public ReadOnlySequence<byte> HeaderBlock { get; }

    /// <summary>Application protobuf bytes, or one zstd frame when <see cref="IsBodyCompressed"/>.</summary>
    public ReadOnlySequence<byte> Body { get; }

    public bool IsBodyCompressed => (Flags & MlpFrameFlags.BodyZstd) != 0;

    public bool IsIdempotent => (Flags & MlpFrameFlags.Idempotent) != 0;

    public bool IsOneWay => (Flags & MlpFrameFlags.OneWay) != 0;

    public static MlpRequestFrame Parse(in MlpFrame frame)
    {
        MlpPayloadReader.Expect(frame, MlpFrameType.Request);
        var reader = new SequenceReader<byte>(frame.Payload);
        var streamId = MlpPayloadReader.ReadStreamId(ref reader, MlpFrameType.Request);
        var headerBlock = MlpPayloadReader.ReadBlock(ref reader, MlpFrameType.Request, "header block");
        return new MlpRequestFrame(streamId, frame.Flags, headerBlock, reader.UnreadSequence);
    }
}
