using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>PING and PONG payload: 0 to 8 opaque bytes; a PONG echoes its PING's bytes exactly.</summary>
public readonly struct MlpPingFrame
{
    public MlpPingFrame(bool isPong, ReadOnlySequence<byte> opaque)
    {
        IsPong = isPong;
        Opaque = opaque;
    }

    public bool IsPong { get; }

    public ReadOnlySequence<byte> Opaque { get; }

    public static MlpPingFrame Parse(in MlpFrame frame)
    {
        if (frame.Type is not (MlpFrameType.Ping or MlpFrameType.Pong))
            throw new ArgumentException($"Expected a PING or PONG frame, got {frame.Type}.", nameof(frame));
        if (frame.Payload.Length > MlpLimits.MaxPingPayload)
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"{frame.Type} payload exceeds {MlpLimits.MaxPingPayload} bytes.");
        return new MlpPingFrame(frame.Type == MlpFrameType.Pong, frame.Payload);
    }
}
