using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The wire of a forward link (<see cref="PeerLink"/> to <see cref="ForwardListener"/>): the connecting node
/// opens with a hello (<c>"ALF1"</c>, a 16-bit length, the cluster id in UTF-8), then sends frames, each a
/// 32-bit big-endian length and a forward batch (<see cref="FleetCodec.WriteForwarded"/>); the listener answers each
/// batch it delivered with one byte (<see cref="Answer"/>) (a sender bounds what is unanswered, <see cref="ForwardWindow"/>). Pure, and every
/// length is checked from its header before a byte of the body is awaited.
/// </summary>
internal static class ForwardFrames
{
    /// <summary>Bytes before each batch.</summary>
    public const int HeaderSize = 4;

    /// <summary>Largest batch a link carries: Orleans' own default message body limit, which the same batches met before links.</summary>
    public const int MaxFrameBytes = 100 * 1024 * 1024;

    /// <summary>The byte a listener sends back for each batch it delivered.</summary>
    public const byte Answer = 1;

    /// <summary>Largest cluster id a hello may carry.</summary>
    public const int MaxClusterIdBytes = 256;

    private static ReadOnlySpan<byte> Magic => "ALF1"u8;

    public static byte[] EncodeHello(string clusterId)
    {
        var id = Encoding.UTF8.GetBytes(clusterId);
        if (id.Length > MaxClusterIdBytes)
        {
            throw new ArgumentException($"A cluster id is at most {MaxClusterIdBytes} UTF-8 bytes.", nameof(clusterId));
        }

        var hello = new byte[Magic.Length + 2 + id.Length];
        Magic.CopyTo(hello);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(Magic.Length), (ushort)id.Length);
        id.CopyTo(hello.AsSpan(Magic.Length + 2));
        return hello;
    }

    /// <summary>
    /// Reads a hello from the start of <paramref name="buffer"/>: false when more bytes are needed; the cluster id
    /// when it is whole (the buffer is advanced past it). Throws when it is not a hello.
    /// </summary>
    public static bool TryReadHello(ref ReadOnlySequence<byte> buffer, out string clusterId)
    {
        clusterId = string.Empty;
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> head = stackalloc byte[6];
        var available = (int)Math.Min(buffer.Length, head.Length);
        reader.TryCopyTo(head[..available]);
        if (!head[..Math.Min(available, Magic.Length)].SequenceEqual(Magic[..Math.Min(available, Magic.Length)]))
        {
            throw new FleetCodecException("Not a forward link: the hello's magic is wrong.");
        }

        if (available < head.Length)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(head[Magic.Length..]);
        if (length > MaxClusterIdBytes)
        {
            throw new FleetCodecException($"A forward link hello's cluster id is {length} bytes, above {MaxClusterIdBytes}.");
        }

        if (buffer.Length < head.Length + length)
        {
            return false;
        }

        clusterId = Encoding.UTF8.GetString(buffer.Slice(head.Length, length));
        buffer = buffer.Slice(head.Length + length);
        return true;
    }

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>: false when more bytes are needed (<paramref name="needed"/>
    /// says how many in all, header included, once the header is whole); the batch when it is whole (the buffer is advanced past it).
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> batch, out int needed)
    {
        batch = default;
        needed = HeaderSize;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > MaxFrameBytes)
        {
            throw new FleetCodecException($"A forward batch of {length} bytes is above the link's limit of {MaxFrameBytes}.");
        }

        needed = HeaderSize + (int)length;
        if (buffer.Length < needed)
        {
            return false;
        }

        batch = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(needed);
        return true;
    }

    /// <summary>Writes the length of the batch that follows the <see cref="HeaderSize"/> bytes reserved at the start of <paramref name="frame"/>.</summary>
    public static void WriteHeader(Span<byte> frame) =>
        BinaryPrimitives.WriteUInt32BigEndian(frame, checked((uint)(frame.Length - HeaderSize)));
}
