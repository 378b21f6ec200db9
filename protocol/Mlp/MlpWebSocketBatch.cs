using System.Buffers;

namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// How MLP frames are cut into WebSocket messages (docs/protocol.md §2.1), the same on both sides: whole
/// frames only, batched up to <see cref="MessageLimit"/>; a larger frame travels alone.
/// </summary>
public static class MlpWebSocketBatch
{
    public const int MessageLimit = 16 * 1024 + MlpLimits.MaxFrameHeaderSize;

    /// <summary>The length of the whole frames at the front of <paramref name="buffer"/> that make the next message (one frame at least); 0 when no whole frame is buffered yet.</summary>
    public static long NextMessageLength(in ReadOnlySequence<byte> buffer)
    {
        long taken = 0;
        Span<byte> header = stackalloc byte[MlpLimits.MaxFrameHeaderSize];
        while (taken < buffer.Length)
        {
            var rest = buffer.Slice(taken);
            var available = (int)Math.Min(rest.Length, header.Length);
            rest.Slice(0, available).CopyTo(header);
            if (!MlpFrameReader.TryParseHeader(header[..available], MlpLimits.AbsoluteMaxFrameSize, out _, out _, out var payload, out var headerLength) || headerLength + payload > rest.Length)
                break;
            if (taken > 0 && taken + headerLength + payload > MessageLimit)
                break;
            taken += headerLength + payload;
        }

        return taken;
    }
}
