using System.Buffers;
using System.Collections.Concurrent;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// One pooled block in a reader's or writer's chain. Idle connections hold none: blocks are rented
/// when bytes arrive or are written and go back as soon as they are consumed or sent.
/// </summary>
internal sealed class BlockSegment : ReadOnlySequenceSegment<byte>
{
    public const int BlockSize = 4096;

    // Segment objects are recycled too, so a steady stream of packets allocates nothing.
    private static readonly ConcurrentQueue<BlockSegment> Spare = new();
    private const int MaxSpare = 4096;

    private byte[] _array = [];

    /// <summary>Bytes written into the block so far.</summary>
    public int End { get; private set; }

    public int Free => _array.Length - End;

    public BlockSegment? NextBlock => (BlockSegment?)Next;

    public Memory<byte> FreeMemory => _array.AsMemory(End);

    public Span<byte> FreeSpan => _array.AsSpan(End);

    public ReadOnlyMemory<byte> Written(int from) => _array.AsMemory(from, End - from);

    public static BlockSegment Rent(int minimumSize, long runningIndex)
    {
        var segment = Spare.TryDequeue(out var spare) ? spare : new BlockSegment();
        segment._array = ArrayPool<byte>.Shared.Rent(Math.Max(minimumSize, BlockSize));
        segment.End = 0;
        segment.RunningIndex = runningIndex;
        segment.Memory = default;
        segment.Next = null;
        return segment;
    }

    public void Append(BlockSegment next) => Next = next;

    /// <summary>Makes <paramref name="count"/> more bytes visible to readers of this segment.</summary>
    public void Commit(int count)
    {
        End += count;
        Memory = _array.AsMemory(0, End);
    }

    public void Return()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        Memory = default;
        Next = null;
        if (Spare.Count < MaxSpare)
        {
            Spare.Enqueue(this);
        }
    }

    /// <summary>Returns this segment and every one after it.</summary>
    public static void ReturnChain(BlockSegment? head)
    {
        while (head is not null)
        {
            var next = head.NextBlock;
            head.Return();
            head = next;
        }
    }
}
