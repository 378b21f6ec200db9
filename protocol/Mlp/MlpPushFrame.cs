using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// PUSH payload: <c>varint sequence | varint header_block_length | header_block | body</c>.
/// Sequence 0 is an unsequenced, best-effort push: never acknowledged, never re-delivered.
/// </summary>
public readonly struct MlpPushFrame
{
    public MlpPushFrame(ulong sequence, MlpFrameFlags flags, ReadOnlySequence<byte> headerBlock, ReadOnlySequence<byte> body)
    {
        Sequence = sequence;
        Flags = flags;
        HeaderBlock = headerBlock;
        Body = body;
    }

    public ulong Sequence { get; }

    public MlpFrameFlags Flags { get; }

    /// <summary>An HPACK block in the server-to-client context.</summary>
    public ReadOnlySequence<byte> HeaderBlock { get; }

    public ReadOnlySequence<byte> Body { get; }

    public bool IsBodyCompressed => (Flags & MlpFrameFlags.BodyZstd) != 0;

    public bool IsRedelivered => (Flags & MlpFrameFlags.Redelivered) != 0;

    public static MlpPushFrame Parse(in MlpFrame frame)
    {
        MlpPayloadReader.Expect(frame, MlpFrameType.Push);
        var reader = new SequenceReader<byte>(frame.Payload);
        var sequence = MlpPayloadReader.ReadVarint(ref reader, MlpVarint.MaxLength64, MlpFrameType.Push, "the sequence");
        var headerBlock = MlpPayloadReader.ReadBlock(ref reader, MlpFrameType.Push, "header block");
        return new MlpPushFrame(sequence, frame.Flags, headerBlock, reader.UnreadSequence);
    }
}
