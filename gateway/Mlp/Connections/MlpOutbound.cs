using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using Google.Protobuf;

namespace AccessLayer.Gateway.Mlp.Connections;

internal enum MlpOutboundKind : byte
{
    /// <summary>A control envelope written as is (WELCOME, ERROR, GOAWAY, DICT).</summary>
    Envelope,

    /// <summary>A RESPONSE: its header block is encoded by the writer, which owns the server-to-client HPACK context.</summary>
    Response,

    /// <summary>A PONG echoing the PING's bytes.</summary>
    Pong,

    /// <summary>A sequenced push (new or redelivered) or an unsequenced one (sequence 0).</summary>
    Push,

    /// <summary>Take waiting pushes from the session store while the push window has room.</summary>
    PumpPushes,
}

/// <summary>One unit of work for a connection's writer: a struct, so queueing a response allocates nothing.</summary>
internal readonly struct MlpOutbound
{
    public static readonly MlpOutbound PumpPushes = new() { Kind = MlpOutboundKind.PumpPushes };

    public MlpOutboundKind Kind { get; private init; }

    public MlpFrameType EnvelopeType { get; private init; }

    public IMessage? Envelope { get; private init; }

    public uint StreamId { get; private init; }

    public int Status { get; private init; }

    public IReadOnlyList<HeaderField> Headers { get; private init; }

    public ReadOnlyMemory<byte> Body { get; private init; }

    /// <summary>A pooled array under <see cref="Body"/>, returned to the shared pool once the frame is written.</summary>
    public byte[]? Rented { get; private init; }

    public MlpFrameFlags Flags { get; private init; }

    public MlpSequencedPush PushItem { get; private init; }

    /// <summary>For DICT data: the dictionary the client holds once this is written.</summary>
    public uint DeliversDictionaryId { get; private init; }

    public static MlpOutbound ForEnvelope(MlpFrameType type, IMessage envelope, uint deliversDictionaryId = 0) =>
        new() { Kind = MlpOutboundKind.Envelope, EnvelopeType = type, Envelope = envelope, DeliversDictionaryId = deliversDictionaryId };

    public static MlpOutbound ForResponse(uint streamId, int status, IReadOnlyList<HeaderField> headers, ReadOnlyMemory<byte> body, MlpFrameFlags flags, byte[]? rented = null) =>
        new() { Kind = MlpOutboundKind.Response, StreamId = streamId, Status = status, Headers = headers, Body = body, Flags = flags, Rented = rented };

    public static MlpOutbound ForPong(byte[] opaque) => new() { Kind = MlpOutboundKind.Pong, Body = opaque };

    public static MlpOutbound ForPush(MlpSequencedPush push) => new() { Kind = MlpOutboundKind.Push, PushItem = push };
}
