using System.Buffers;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// Writes whole frames straight into the output: the header and the fixed fields go into one
/// small span, header block and body are copied once from the caller's buffers. Callers keep
/// payloads within the peer's negotiated max_frame_size; this writer only enforces the
/// absolute 16 MiB ceiling.
/// </summary>
public static class MlpFrameWriter
{
    public static int GetHeaderLength(int payloadLength) => 1 + MlpVarint.GetByteCount((uint)payloadLength);

    public static void WriteHeader(IBufferWriter<byte> writer, MlpFrameType type, MlpFrameFlags flags, int payloadLength)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(MlpLimits.MaxFrameHeaderSize);
        var written = WriteHeader(span, type, flags, payloadLength);
        writer.Advance(written);
    }

    public static void Write(IBufferWriter<byte> writer, MlpFrameType type, MlpFrameFlags flags, ReadOnlySpan<byte> payload)
    {
        WriteHeader(writer, type, flags, payload.Length);
        writer.Write(payload);
    }

    public static void WriteRequest(IBufferWriter<byte> writer, uint streamId, MlpFrameFlags flags, ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> body)
    {
        CheckStreamId(streamId);
        WriteMessage(writer, MlpFrameType.Request, flags, streamId, 0, headerBlock, body);
    }

    public static void WriteResponse(IBufferWriter<byte> writer, uint streamId, int status, MlpFrameFlags flags, ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> body)
    {
        CheckStreamId(streamId);
        ArgumentOutOfRangeException.ThrowIfLessThan(status, MlpLimits.MinStatus);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, MlpLimits.MaxStatus);
        WriteMessage(writer, MlpFrameType.Response, flags, streamId, (uint)status, headerBlock, body);
    }

    public static void WritePush(IBufferWriter<byte> writer, ulong sequence, MlpFrameFlags flags, ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> body) =>
        WriteMessage(writer, MlpFrameType.Push, flags, sequence, 0, headerBlock, body);

    public static void WriteAck(IBufferWriter<byte> writer, ulong sequence)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sequence);
        var length = MlpVarint.GetByteCount(sequence);
        var span = writer.GetSpan(MlpLimits.MaxFrameHeaderSize + length);
        var written = WriteHeader(span, MlpFrameType.Ack, MlpFrameFlags.None, length);
        written += MlpVarint.Write(span[written..], sequence);
        writer.Advance(written);
    }

    public static void WritePing(IBufferWriter<byte> writer, ReadOnlySpan<byte> opaque) => WritePingOrPong(writer, MlpFrameType.Ping, opaque);

    public static void WritePong(IBufferWriter<byte> writer, ReadOnlySpan<byte> opaque) => WritePingOrPong(writer, MlpFrameType.Pong, opaque);

    public static void WriteHello(IBufferWriter<byte> writer, Hello hello) => WriteEnvelope(writer, MlpFrameType.Hello, hello);

    public static void WriteWelcome(IBufferWriter<byte> writer, Welcome welcome) => WriteEnvelope(writer, MlpFrameType.Welcome, welcome);

    public static void WriteDict(IBufferWriter<byte> writer, Dict dict) => WriteEnvelope(writer, MlpFrameType.Dict, dict);

    public static void WriteGoAway(IBufferWriter<byte> writer, GoAway goAway) => WriteEnvelope(writer, MlpFrameType.GoAway, goAway);

    public static void WriteError(IBufferWriter<byte> writer, Error error) => WriteEnvelope(writer, MlpFrameType.Error, error);

    public static void WriteEnvelope(IBufferWriter<byte> writer, MlpFrameType type, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!MlpEnvelope.IsEnvelopeType(type))
            throw new ArgumentException($"{type} frames do not carry a protobuf envelope.", nameof(type));
        WriteHeader(writer, type, MlpFrameFlags.None, message.CalculateSize());
        message.WriteTo(writer);
    }

    private static void WritePingOrPong(IBufferWriter<byte> writer, MlpFrameType type, ReadOnlySpan<byte> opaque)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(opaque.Length, MlpLimits.MaxPingPayload, nameof(opaque));
        var span = writer.GetSpan(MlpLimits.MaxFrameHeaderSize + MlpLimits.MaxPingPayload);
        var written = WriteHeader(span, type, MlpFrameFlags.None, opaque.Length);
        opaque.CopyTo(span[written..]);
        writer.Advance(written + opaque.Length);
    }

    /// <summary>REQUEST (id), RESPONSE (id, status) and PUSH (sequence) share one layout but for the leading fields.</summary>
    private static void WriteMessage(IBufferWriter<byte> writer, MlpFrameType type, MlpFrameFlags flags, ulong first, uint status,
        ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var fixedLength = MlpVarint.GetByteCount(first)
            + (type == MlpFrameType.Response ? MlpVarint.GetByteCount(status) : 0)
            + MlpVarint.GetByteCount((uint)headerBlock.Length);
        var payloadLength = (long)fixedLength + headerBlock.Length + body.Length;
        if (payloadLength > MlpLimits.AbsoluteMaxFrameSize)
            throw new ArgumentOutOfRangeException(nameof(body), $"{type} payload of {payloadLength} bytes exceeds {MlpLimits.AbsoluteMaxFrameSize}.");

        var span = writer.GetSpan(MlpLimits.MaxFrameHeaderSize + fixedLength);
        var written = WriteHeader(span, type, flags, (int)payloadLength);
        written += MlpVarint.Write(span[written..], first);
        if (type == MlpFrameType.Response)
            written += MlpVarint.Write(span[written..], status);
        written += MlpVarint.Write(span[written..], (uint)headerBlock.Length);
        writer.Advance(written);
        writer.Write(headerBlock);
        writer.Write(body);
    }

    private static int WriteHeader(Span<byte> span, MlpFrameType type, MlpFrameFlags flags, int payloadLength)
    {
        if (!MlpFrameReader.IsDefined(type))
            throw new ArgumentOutOfRangeException(nameof(type), type, "Not an MLP frame type.");
        if ((byte)flags > 0x0F)
            throw new ArgumentOutOfRangeException(nameof(flags), flags, "Flags occupy the low nibble.");
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, MlpLimits.AbsoluteMaxFrameSize);
        span[0] = (byte)(((byte)type << 4) | (byte)flags);
        return 1 + MlpVarint.Write(span[1..], (uint)payloadLength);
    }

    private static void CheckStreamId(uint streamId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(streamId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(streamId, MlpLimits.MaxStreamId);
    }
}
