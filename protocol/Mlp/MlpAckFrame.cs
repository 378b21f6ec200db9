using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>ACK payload: exactly one <c>varint sequence</c>, cumulative: every push up to it is acknowledged.</summary>
public readonly struct MlpAckFrame
{
    public MlpAckFrame(ulong sequence) => Sequence = sequence;

    public ulong Sequence { get; }

    public static MlpAckFrame Parse(in MlpFrame frame)
    {
        MlpPayloadReader.Expect(frame, MlpFrameType.Ack);
        var reader = new SequenceReader<byte>(frame.Payload);
        var sequence = MlpPayloadReader.ReadVarint(ref reader, MlpVarint.MaxLength64, MlpFrameType.Ack, "the sequence");
        if (sequence == 0 || !reader.End)
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "ACK payload must be exactly one non-zero sequence varint.");
        return new MlpAckFrame(sequence);
    }
}
