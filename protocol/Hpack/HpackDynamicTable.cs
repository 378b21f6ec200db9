using System.Diagnostics;

namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// RFC 7541 §2.3.2 / §4 dynamic table: FIFO of entries, size = Σ(32 + name + value), evicting the oldest.
/// Entries sit in a ring of descriptors; their octets sit contiguously in a byte ring that skips its tail
/// instead of splitting an entry, so every name and value is one span. With a byte ring of twice the
/// maximum size an insert always fits, so the buffers stop growing once warm (no allocation in steady state).
/// </summary>
internal sealed class HpackDynamicTable
{
    public const int EntryOverhead = 32;

    private const int InitialBufferSize = 256;
    private const int InitialEntryCapacity = 8;

    private Entry[] _entries = [];   // capacity is a power of two: ring positions wrap with a mask
    private byte[] _buffer = [];
    private int _first;   // ring position of the oldest entry
    private int _count;

    public HpackDynamicTable(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        MaxSize = maxSize;
    }

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Current size in the RFC's accounting (32 + name + value per entry).</summary>
    public int Size { get; private set; }

    public int MaxSize { get; private set; }

    /// <summary>Octets held by the table's buffers (what it really costs in memory).</summary>
    public int AllocatedBytes => _buffer.Length + (_entries.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Entry>());

    public ReadOnlySpan<byte> GetName(int index)
    {
        ref readonly var e = ref EntryAt(index);
        return _buffer.AsSpan(e.Offset, e.NameLength);
    }

    public ReadOnlySpan<byte> GetValue(int index)
    {
        ref readonly var e = ref EntryAt(index);
        return _buffer.AsSpan(e.Offset + e.NameLength, e.ValueLength);
    }

    public void SetMaxSize(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        MaxSize = maxSize;
        EvictUntilFits(0);
    }

    public void Clear()
    {
        _first = 0;
        _count = 0;
        Size = 0;
    }

    /// <summary>
    /// Adds (name, value) as the newest entry (index 0). <paramref name="name"/> may point into this table
    /// (a literal naming an indexed entry): it is copied before the value and with memmove semantics, and a
    /// grown buffer leaves the old array alive under the span.
    /// </summary>
    public void Insert(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var entrySize = (long)EntryOverhead + name.Length + value.Length;
        if (entrySize > MaxSize)
        {
            // §4.4: an entry larger than the table empties it and is not added.
            Clear();
            return;
        }

        EvictUntilFits((int)entrySize);
        var length = name.Length + value.Length;
        var offset = Reserve(length);
        name.CopyTo(_buffer.AsSpan(offset));
        value.CopyTo(_buffer.AsSpan(offset + name.Length));

        if (_count == _entries.Length)
        {
            GrowEntries();
        }

        _entries[(_first + _count) & (_entries.Length - 1)] = new Entry(offset, name.Length, value.Length, HpackStaticTable.HashName(name));
        _count++;
        Size += (int)entrySize;
    }

    /// <summary>
    /// The 0-based index of the newest entry equal to (name, value), or -1; <paramref name="nameIndex"/>
    /// gets the newest entry with that name, or -1.
    /// </summary>
    public int Find(ReadOnlySpan<byte> name, int nameHash, ReadOnlySpan<byte> value, out int nameIndex)
    {
        nameIndex = -1;
        var mask = _entries.Length - 1;
        var position = _first + _count - 1;
        for (var i = 0; i < _count; i++, position--)
        {
            ref readonly var e = ref _entries[position & mask];
            if (e.NameHash != nameHash || e.NameLength != name.Length
                || !_buffer.AsSpan(e.Offset, e.NameLength).SequenceEqual(name))
            {
                continue;
            }

            if (nameIndex < 0)
            {
                nameIndex = i;
            }

            if (e.ValueLength == value.Length && _buffer.AsSpan(e.Offset + e.NameLength, e.ValueLength).SequenceEqual(value))
            {
                return i;
            }
        }

        return -1;
    }

    private ref readonly Entry EntryAt(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        // Index 0 is the newest entry.
        return ref _entries[(_first + _count - 1 - index) & (_entries.Length - 1)];
    }

    private void EvictUntilFits(int incoming)
    {
        while (_count > 0 && Size + incoming > MaxSize)
        {
            ref readonly var oldest = ref _entries[_first];
            Size -= EntryOverhead + oldest.NameLength + oldest.ValueLength;
            _first = (_first + 1) & (_entries.Length - 1);
            _count--;
        }

        if (_count == 0)
        {
            _first = 0;
        }
    }

    /// <summary>A contiguous region of <paramref name="length"/> octets after the newest entry.</summary>
    private int Reserve(int length)
    {
        if (TryPlace(length, out var offset))
        {
            return offset;
        }

        // Only while the buffer is below twice the maximum size (warm-up or after the maximum grew).
        Linearize(length);
        var placed = TryPlace(length, out offset);
        Debug.Assert(placed, "a linearized buffer with room for the entry must place it");
        return offset;
    }

    private bool TryPlace(int length, out int offset)
    {
        if (_count == 0)
        {
            offset = 0;
            return length <= _buffer.Length;
        }

        ref readonly var oldest = ref _entries[_first];
        ref readonly var newest = ref _entries[(_first + _count - 1) & (_entries.Length - 1)];
        var head = oldest.Offset;
        var tail = newest.Offset + newest.NameLength + newest.ValueLength;
        if (newest.Offset >= head)
        {
            // Live octets are [head, tail): append, or wrap to the front and leave the tail unused.
            if (tail + length <= _buffer.Length)
            {
                offset = tail;
                return true;
            }

            offset = 0;
            return length <= head;
        }

        // Wrapped: live octets are [head, end) and [0, tail); the gap is [tail, head). The new offset must
        // stay below head (even for an empty entry) or the ring would look unwrapped.
        offset = tail;
        return tail < head && tail + length <= head;
    }

    private void Linearize(int incoming)
    {
        var live = Size - (_count * EntryOverhead);
        var target = Math.Max(Math.Max(InitialBufferSize, _buffer.Length * 2), live + incoming);
        target = Math.Max(Math.Min(target, 2 * MaxSize), live + incoming);
        var buffer = new byte[target];
        var position = 0;
        for (var i = 0; i < _count; i++)
        {
            ref var e = ref _entries[(_first + i) & (_entries.Length - 1)];
            var length = e.NameLength + e.ValueLength;
            _buffer.AsSpan(e.Offset, length).CopyTo(buffer.AsSpan(position));
            e = e with { Offset = position };
            position += length;
        }

        _buffer = buffer;
    }

    private void GrowEntries()
    {
        var entries = new Entry[Math.Max(InitialEntryCapacity, _entries.Length * 2)];
        for (var i = 0; i < _count; i++)
        {
            entries[i] = _entries[(_first + i) & (_entries.Length - 1)];
        }

        _entries = entries;
        _first = 0;
    }

    private readonly record struct Entry(int Offset, int NameLength, int ValueLength, int NameHash);
}
