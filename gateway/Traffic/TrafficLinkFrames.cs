using System.Buffers;
using System.Buffers.Binary;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The wire of a site link (<see cref="TrafficLink"/> to <see cref="TrafficLinkServer"/>): the connecting gateway
/// opens with <c>"ALT1"</c>, then both sides send frames framed as the fleet's forward links are
/// (<see cref="ForwardFrames"/>: a 32-bit big-endian length, then the frame), fields written as the fleet writes them
/// (<see cref="FleetFields"/>: variable-byte lengths and counts, UTF-8 strings). A frame is a kind byte and a 32-bit
/// call id, then: a <b>call</b> (signed time, hop, service, operation, identity, flags, HELLO facts, deadline,
/// signature, headers, body); an <b>answer</b> (status, headers, body); or a <b>refusal</b> (a readable reason; call
/// id 0: of the whole link, which the sender then closes). Pure; every length is checked from its header.
/// </summary>
internal static class TrafficLinkFrames
{
    public const byte Call = 1;
    public const byte Answer = 2;
    public const byte Refusal = 3;

    /// <summary>Bytes of a frame besides the body: its headers and identity (a frame longer than the body limit plus this is refused from its length).</summary>
    public const int MaxOverheadBytes = 256 * 1024;

    private const byte Idempotent = 1, HasPlatform = 2, HasAppVersion = 4;
    private const int SignatureBytes = 32;

    public static ReadOnlySpan<byte> Magic => "ALT1"u8;

    /// <summary>A call frame (length header included) in an array from the shared pool; the caller returns it once sent. <paramref name="extra"/>: a header sent after <paramref name="headers"/> (the long link's cookie), without a list made for it.</summary>
    public static byte[] EncodeCall(uint id, in TrafficForward forward, int timeoutMs, ReadOnlySpan<byte> signature, IReadOnlyList<HeaderField> headers, HeaderField? extra, ReadOnlySpan<byte> body, out int length)
    {
        if (signature.Length != SignatureBytes)
        {
            throw new ArgumentException($"A forward signature is {SignatureBytes} bytes.", nameof(signature));
        }

        var size = 1 + 4 + 8 + FleetSize.String(forward.Hop) + FleetSize.String(forward.Service) + FleetSize.String(forward.Operation)
            + FleetSize.String(forward.DeviceId) + FleetSize.String(forward.UserId) + FleetSize.String(forward.SessionId) + 1
            + FleetSize.OptionalString(forward.Platform) + FleetSize.OptionalString(forward.AppVersion) + 4 + SignatureBytes
            + HeadersSize(headers, extra) + FleetSize.VarInt(body.Length) + body.Length;
        var frame = ArrayPool<byte>.Shared.Rent(ForwardFrames.HeaderSize + size);
        length = ForwardFrames.HeaderSize + size;
        var writer = new MqttSpanWriter(frame.AsSpan(ForwardFrames.HeaderSize, size));
        writer.WriteByte(Call);
        writer.WriteUInt32(id);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, forward.UnixSeconds);
        writer.WriteBytes(number);
        foreach (var part in (ReadOnlySpan<string>)[forward.Hop, forward.Service, forward.Operation, forward.DeviceId, forward.UserId, forward.SessionId])
        {
            FleetFields.WriteString(ref writer, part);
        }

        writer.WriteByte((byte)((forward.Idempotent ? Idempotent : 0) | (forward.Platform is null ? 0 : HasPlatform) | (forward.AppVersion is null ? 0 : HasAppVersion)));
        if (forward.Platform is { } platform)
        {
            FleetFields.WriteString(ref writer, platform);
        }

        if (forward.AppVersion is { } appVersion)
        {
            FleetFields.WriteString(ref writer, appVersion);
        }

        writer.WriteUInt32((uint)Math.Max(0, timeoutMs));
        writer.WriteBytes(signature);
        WriteHeaders(ref writer, headers, extra);
        FleetFields.WriteLengthPrefixed(ref writer, body);
        writer.Complete(size);
        ForwardFrames.WriteHeader(frame.AsSpan(0, length));
        return frame;
    }

    /// <summary>An answer frame (length header included) in an array from the shared pool.</summary>
    public static byte[] EncodeAnswer(uint id, MlpServiceResponse response, out int length)
    {
        var body = response.Body.Span;
        var size = 1 + 4 + 2 + HeadersSize(response.Headers, null) + FleetSize.VarInt(body.Length) + body.Length;
        var frame = ArrayPool<byte>.Shared.Rent(ForwardFrames.HeaderSize + size);
        length = ForwardFrames.HeaderSize + size;
        var writer = new MqttSpanWriter(frame.AsSpan(ForwardFrames.HeaderSize, size));
        writer.WriteByte(Answer);
        writer.WriteUInt32(id);
        writer.WriteUInt16((ushort)Math.Clamp(response.Status, 0, ushort.MaxValue));
        WriteHeaders(ref writer, response.Headers, null);
        FleetFields.WriteLengthPrefixed(ref writer, body);
        writer.Complete(size);
        ForwardFrames.WriteHeader(frame.AsSpan(0, length));
        return frame;
    }

    /// <summary>A refusal frame (length header included) in an array from the shared pool; id 0 refuses the whole link.</summary>
    public static byte[] EncodeRefusal(uint id, string reason, out int length)
    {
        if (reason.Length > 1000)
        {
            reason = reason[..1000];
        }

        reason = reason.Replace('\0', ' ');
        var size = 1 + 4 + FleetSize.String(reason);
        var frame = ArrayPool<byte>.Shared.Rent(ForwardFrames.HeaderSize + size);
        length = ForwardFrames.HeaderSize + size;
        var writer = new MqttSpanWriter(frame.AsSpan(ForwardFrames.HeaderSize, size));
        writer.WriteByte(Refusal);
        writer.WriteUInt32(id);
        FleetFields.WriteString(ref writer, reason);
        writer.Complete(size);
        ForwardFrames.WriteHeader(frame.AsSpan(0, length));
        return frame;
    }

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/> (advanced past it): false when more bytes are needed.
    /// Throws <see cref="TrafficLinkException"/> for a frame longer than <paramref name="maxFrame"/>, known from its header.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrame, out ReadOnlySequence<byte> frame)
    {
        bool whole;
        int needed;
        try
        {
            whole = ForwardFrames.TryReadFrame(ref buffer, out frame, out needed);
        }
        catch (FleetCodecException e)
        {
            // Past the fleet links' own ceiling: past this gateway's too.
            throw new TrafficLinkException(e.Message + $" This gateway's limit is {maxFrame}.", e);
        }

        if (!whole)
        {
            if (needed - ForwardFrames.HeaderSize > maxFrame)
            {
                throw new TrafficLinkException($"A link frame of {needed - ForwardFrames.HeaderSize} bytes is above this gateway's limit of {maxFrame}.");
            }

            return false;
        }

        if (frame.Length > maxFrame)
        {
            throw new TrafficLinkException($"A link frame of {frame.Length} bytes is above this gateway's limit of {maxFrame}.");
        }

        return true;
    }

    /// <summary>The kind and call id of a whole frame.</summary>
    public static (byte Kind, uint Id) ReadHead(in ReadOnlySequence<byte> frame) =>
        Read(frame, static (ref MqttBodyReader reader) => (reader.ReadByte(), reader.ReadUInt32()));

    /// <summary>
    /// A call frame: the signed forward, the caller's deadline, the signature, the headers and a copy of the body; the
    /// short strings of a call (hop, service, operation, HELLO facts, header names and values but cookies) shared through
    /// <paramref name="strings"/>, the link's own.
    /// </summary>
    public static LinkCall ReadCall(in ReadOnlySequence<byte> frame, TrafficLinkStrings strings)
    {
        try
        {
            var reader = new MqttBodyReader(frame);
            Expect(ref reader, Call);
            var id = reader.ReadUInt32();
            Span<byte> number = stackalloc byte[8];
            reader.ReadSlice(8).CopyTo(number);
            var at = BinaryPrimitives.ReadInt64BigEndian(number);
            var hop = strings.Read(ref reader);
            var service = strings.Read(ref reader);
            var operation = strings.Read(ref reader);
            // The identity differs from user to user: read as it is, never kept.
            var deviceId = FleetFields.ReadString(ref reader);
            var userId = FleetFields.ReadString(ref reader);
            var sessionId = FleetFields.ReadString(ref reader);
            var flags = reader.ReadByte();
            var platform = (flags & HasPlatform) != 0 ? strings.Read(ref reader) : null;
            var appVersion = (flags & HasAppVersion) != 0 ? strings.Read(ref reader) : null;
            var timeoutMs = reader.ReadUInt32();
            var signature = reader.ReadSlice(SignatureBytes).ToArray();
            var headers = ReadHeaders(ref reader, strings, null);
            var body = reader.ReadSlice(FleetFields.ReadLength(ref reader, int.MaxValue)).ToArray();
            var forward = new TrafficForward(at, hop, service, operation, deviceId, userId, sessionId, (flags & Idempotent) != 0, platform, appVersion);
            return new LinkCall(id, forward, (int)Math.Min(timeoutMs, int.MaxValue), signature, headers, body);
        }
        catch (Exception e) when (e is MqttProtocolException or FleetCodecException)
        {
            throw new TrafficLinkException("A malformed link frame: " + e.Message, e);
        }
    }

    /// <summary>
    /// An answer frame: the call's status, headers and a copy of the body; <paramref name="extra"/> goes after the
    /// headers in the same array (the forwarding gateway's own mark), and the short strings are shared through
    /// <paramref name="strings"/>, the link's own.
    /// </summary>
    public static (uint Id, MlpServiceResponse Response) ReadAnswer(in ReadOnlySequence<byte> frame, TrafficLinkStrings strings, HeaderField? extra)
    {
        try
        {
            var reader = new MqttBodyReader(frame);
            Expect(ref reader, Answer);
            var id = reader.ReadUInt32();
            var status = reader.ReadUInt16();
            var headers = ReadHeaders(ref reader, strings, extra);
            var body = reader.ReadSlice(FleetFields.ReadLength(ref reader, int.MaxValue)).ToArray();
            return (id, new MlpServiceResponse(status, headers, body));
        }
        catch (Exception e) when (e is MqttProtocolException or FleetCodecException)
        {
            throw new TrafficLinkException("A malformed link frame: " + e.Message, e);
        }
    }

    /// <summary>A refusal frame: the call it refuses (0: the link) and why.</summary>
    public static (uint Id, string Reason) ReadRefusal(in ReadOnlySequence<byte> frame) => Read(frame, static (ref MqttBodyReader reader) =>
    {
        Expect(ref reader, Refusal);
        return (reader.ReadUInt32(), FleetFields.ReadString(ref reader));
    });

    private static int HeadersSize(IReadOnlyList<HeaderField> headers, HeaderField? extra)
    {
        var size = FleetSize.VarInt(headers.Count + (extra is null ? 0 : 1));
        for (var i = 0; i < headers.Count; i++)
        {
            size += FleetSize.String(headers[i].Name) + FleetSize.String(headers[i].Value);
        }

        if (extra is { } more)
        {
            size += FleetSize.String(more.Name) + FleetSize.String(more.Value);
        }

        return size;
    }

    private static void WriteHeaders(ref MqttSpanWriter writer, IReadOnlyList<HeaderField> headers, HeaderField? extra)
    {
        writer.WriteVariableByteInteger(headers.Count + (extra is null ? 0 : 1));
        for (var i = 0; i < headers.Count; i++)
        {
            FleetFields.WriteString(ref writer, headers[i].Name);
            FleetFields.WriteString(ref writer, headers[i].Value);
        }

        if (extra is { } more)
        {
            FleetFields.WriteString(ref writer, more.Name);
            FleetFields.WriteString(ref writer, more.Value);
        }
    }

    /// <summary>The headers, with room for <paramref name="extra"/> at the end; a zone cookie's value (one per user) is read as it is, the rest shared.</summary>
    private static HeaderField[] ReadHeaders(ref MqttBodyReader reader, TrafficLinkStrings strings, HeaderField? extra)
    {
        var count = FleetFields.ReadCount(ref reader, FleetSize.MinUserProperty);
        var headers = count == 0 && extra is null ? [] : new HeaderField[count + (extra is null ? 0 : 1)];
        for (var i = 0; i < count; i++)
        {
            var name = strings.Read(ref reader);
            headers[i] = new HeaderField(name, name == TrafficHeaders.ZoneCookie ? FleetFields.ReadString(ref reader) : strings.Read(ref reader));
        }

        if (extra is { } more)
        {
            headers[count] = more;
        }

        return headers;
    }

    private static void Expect(ref MqttBodyReader reader, byte kind)
    {
        var read = reader.ReadByte();
        if (read != kind)
        {
            throw new TrafficLinkException($"A link frame of kind {read} where kind {kind} was expected.");
        }
    }

    private static T Read<T>(in ReadOnlySequence<byte> frame, FleetFields.UnitReader<T> read)
    {
        try
        {
            var reader = new MqttBodyReader(frame);
            var value = read(ref reader);
            return value;
        }
        catch (Exception e) when (e is MqttProtocolException or FleetCodecException)
        {
            throw new TrafficLinkException("A malformed link frame: " + e.Message, e);
        }
    }
}

/// <summary>A call read from a link frame.</summary>
internal sealed record LinkCall(uint Id, TrafficForward Forward, int TimeoutMs, byte[] Signature, HeaderField[] Headers, byte[] Body);

/// <summary>A site link broke, was refused or carried a malformed frame; <see cref="NeverSent"/>: the call did not leave this gateway.</summary>
internal sealed class TrafficLinkException(string message, Exception? inner = null) : IOException(message, inner)
{
    public bool NeverSent { get; init; }
}
