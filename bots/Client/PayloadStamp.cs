using System.Buffers;
using System.Buffers.Binary;

namespace AccessLayer.Bots.Client;

/// <summary>The first 8 bytes of every bot payload: the sender's <see cref="System.Diagnostics.Stopwatch"/> timestamp (little endian).</summary>
public static class PayloadStamp
{
    public const int Size = 8;

    public static void Write(Span<byte> payload, long timestamp)
    {
        if (payload.Length >= Size)
        {
            BinaryPrimitives.WriteInt64LittleEndian(payload, timestamp);
        }
    }

    /// <summary>The stamp, or 0 when the payload is shorter than a stamp.</summary>
    public static long Read(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < Size)
        {
            return 0;
        }

        if (payload.FirstSpan.Length >= Size)
        {
            return BinaryPrimitives.ReadInt64LittleEndian(payload.FirstSpan);
        }

        Span<byte> copy = stackalloc byte[Size];
        payload.Slice(0, Size).CopyTo(copy);
        return BinaryPrimitives.ReadInt64LittleEndian(copy);
    }
}
