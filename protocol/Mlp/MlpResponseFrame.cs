using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// RESPONSE payload: <c>varint stream_id | varint status | varint header_block_length | header_block | body</c>.
/// </summary>
public readonly struct MlpResponseFrame
{
    public MlpResponseFrame(uint streamId, int status, MlpFrameFlags flags, ReadOnlySequence<byte> headerBlock, ReadOnlySequence<byte> body)
    {
        StreamId = streamId;
        Status = status;
        Flags = flags;
        HeaderBlock = headerBlock;
        Body = body;
    }

    public uint StreamId { get; }

    /// <summary>HTTP semantics, 100..999.</summary>
    public int Status { get; }

    public MlpFrameFlags Flags { get; }

    /// <summary>An HPACK block in the server-to-client context.</summary>
    public ReadOnlySequence<byte> HeaderBlock { get; }

    public ReadOnlySequence<byte> Body { get; }

    public bool IsBodyCompressed => (Flags & MlpFrameFlags.BodyZstd) != 0;

    public static MlpResponseFrame Parse(in MlpFrame frame)
    {
        MlpPayloadReader.Expect(frame, MlpFrameType.Response);
        var reader = new SequenceReader<byte>(frame.Payload);
        var streamId = MlpPayloadReader.ReadStreamId(ref reader, MlpFrameType.Response);
        var status = MlpPayloadReader.ReadVarint(ref reader, 2, MlpFrameType.Response, "the status");
        if (status is < MlpLimits.MinStatus or > MlpLimits.MaxStatus)
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"RESPONSE status {status} is outside 100..999.");
        var headerBlock = MlpPayloadReader.ReadBlock(ref reader, MlpFrameType.Response, "header block");
        return new MlpResponseFrame(streamId, (int)status, frame.Flags, headerBlock, reader.UnreadSequence);
    }
}
