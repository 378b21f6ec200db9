using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>One frame as read: type, flags and a payload slice of the reader's buffer (no copy).</summary>
public readonly struct MlpFrame
{
    public MlpFrame(MlpFrameType type, MlpFrameFlags flags, ReadOnlySequence<byte> payload)
    {
        Type = type;
        Flags = flags;
        Payload = payload;
    }

    public MlpFrameType Type { get; }

    public MlpFrameFlags Flags { get; }

    /// <summary>Valid only until the reader's buffer is advanced past it.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    public bool HasFlag(MlpFrameFlags flag) => (Flags & flag) == flag;
}
