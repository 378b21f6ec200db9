using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// Encodes header blocks (RFC 7541) for one direction of one connection; it owns that direction's dynamic
/// table, mirrored by the peer's <see cref="HpackDecoder"/>. Blocks must reach the peer in the order they
/// were encoded. Once the table is warm, encoding allocates nothing.
/// Not thread-safe: one encoder per connection direction, used by that connection's single writer.
/// </summary>
public sealed class HpackEncoder
{
    private const int StackScratchSize = 512;

    private readonly HpackDynamicTable _table;
    private readonly HpackHuffmanPolicy _huffman;
    private readonly byte[][] _neverIndexNames;
    private readonly byte[][] _doNotIndexNames;
    private readonly int? _maxIndexedFieldSize;
    private readonly int _cap;
    private int _limit;
    private bool _sizeUpdatePending;
    private int _smallestPendingSize = int.MaxValue;

    public HpackEncoder(HpackEncoderOptions? options = null)
    {
        options ??= new HpackEncoderOptions();
        options.Validate();
        _huffman = options.Huffman;
        _neverIndexNames = options.NeverIndexNames.Select(Encoding.ASCII.GetBytes).ToArray();
        _doNotIndexNames = options.DoNotIndexNames.Select(Encoding.ASCII.GetBytes).ToArray();
        _maxIndexedFieldSize = options.MaxIndexedFieldSize;
        _cap = options.MaxDynamicTableSize;
        _limit = options.DynamicTableSizeLimit;

        // Both tables start at the limit; a smaller cap of ours is announced by the first block.
        var size = Math.Min(_limit, _cap);
        _table = new HpackDynamicTable(size);
        _sizeUpdatePending = size != _limit;
    }

    /// <summary>The peer decoder's current limit.</summary>
    public int DynamicTableSizeLimit => _limit;

    /// <summary>The table's current maximum size (min(limit, cap) once announced).</summary>
    public int DynamicTableMaxSize => _table.MaxSize;

    /// <summary>The table's current size (Σ 32 + name + value).</summary>
    public int DynamicTableSize => _table.Size;

    public int DynamicTableCount => _table.Count;

    internal HpackDynamicTable DynamicTable => _table;

    /// <summary>
    /// The peer acknowledged a new limit (HTTP/2: we received its SETTINGS). The next block opens with the
    /// size update(s): the smallest size since the last block if it shrank the table, then the final one.
    /// </summary>
    public void SetDynamicTableSizeLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _limit = limit;
        var size = Math.Min(limit, _cap);
        _smallestPendingSize = Math.Min(_smallestPendingSize, size);
        _sizeUpdatePending |= size != _table.MaxSize || _smallestPendingSize < _table.MaxSize;
    }

    /// <summary>Encodes one complete header block.</summary>
    public void Encode(ReadOnlySpan<HeaderField> headers, IBufferWriter<byte> output)
    {
        BeginBlock(output);
        foreach (ref readonly var field in headers)
        {
            EncodeHeader(field, output);
        }
    }

    /// <summary>Encodes one complete header block (lists and arrays take the allocation-free path).</summary>
    public void Encode(IEnumerable<HeaderField> headers, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(headers);
        switch (headers)
        {
            case HeaderField[] array:
                Encode(array.AsSpan(), output);
                break;
            case List<HeaderField> list:
                Encode(CollectionsMarshal.AsSpan(list), output);
                break;
            default:
                BeginBlock(output);
                foreach (var field in headers)
                {
                    EncodeHeader(field, output);
                }

                break;
        }
    }

    /// <summary>
    /// Starts a block written field by field with <see cref="EncodeHeader(ReadOnlySpan{byte}, ReadOnlySpan{byte}, IBufferWriter{byte}, HpackIndexing)"/>:
    /// writes any pending dynamic table size update, which must open the block.
    /// </summary>
    public void BeginBlock(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!_sizeUpdatePending)
        {
            return;
        }

        var size = Math.Min(_limit, _cap);
        if (_smallestPendingSize < size && _smallestPendingSize < _table.MaxSize)
        {
            WriteSizeUpdate(_smallestPendingSize, output);
        }

        WriteSizeUpdate(size, output);
        _sizeUpdatePending = false;
        _smallestPendingSize = int.MaxValue;
    }

    /// <summary>Appends one field (UTF-8) to the current block; <see cref="HeaderField.NeverIndex"/> forces never-indexed.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public void EncodeHeader(in HeaderField field, IBufferWriter<byte> output)
    {
        var name = field.Name ?? string.Empty;
        var value = field.Value ?? string.Empty;
        var indexing = field.NeverIndex ? HpackIndexing.NeverIndexed : HpackIndexing.Default;
        if ((long)(name.Length + value.Length) * 3 <= StackScratchSize)
        {
            // UTF-8 takes at most 3 octets per UTF-16 unit: no need to count first.
            Span<byte> scratch = stackalloc byte[StackScratchSize];
            var nameLength = Encoding.UTF8.GetBytes(name, scratch);
            var valueLength = Encoding.UTF8.GetBytes(value, scratch[nameLength..]);
            EncodeHeader(scratch[..nameLength], scratch.Slice(nameLength, valueLength), output, indexing);
            return;
        }

        var nameBytes = Encoding.UTF8.GetByteCount(name);
        var total = nameBytes + Encoding.UTF8.GetByteCount(value);
        var rented = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            Encoding.UTF8.GetBytes(name, rented);
            Encoding.UTF8.GetBytes(value, rented.AsSpan(nameBytes));
            EncodeHeader(rented.AsSpan(0, nameBytes), rented.AsSpan(nameBytes, total - nameBytes), output, indexing);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Appends one field to the current block (after <see cref="BeginBlock"/>).</summary>
    public void EncodeHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, IBufferWriter<byte> output,
        HpackIndexing indexing = HpackIndexing.Default)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_sizeUpdatePending)
        {
            throw new InvalidOperationException("A dynamic table size update is pending: call BeginBlock before the first field.");
        }

        if (indexing == HpackIndexing.Default)
        {
            indexing = ChooseIndexing(name, value);
        }

        var nameHash = HpackStaticTable.HashName(name);
        var index = HpackStaticTable.Find(name, nameHash, value, out var nameIndex);
        if (index == 0)
        {
            var dynamicIndex = _table.Find(name, nameHash, value, out var dynamicNameIndex);
            index = dynamicIndex < 0 ? 0 : dynamicIndex + HpackStaticTable.Count + 1;
            if (nameIndex == 0 && dynamicNameIndex >= 0)
            {
                nameIndex = dynamicNameIndex + HpackStaticTable.Count + 1;
            }
        }

        if (index != 0 && indexing != HpackIndexing.NeverIndexed)
        {
            WriteInteger(index, 7, 0x80, output);
            return;
        }

        switch (indexing)
        {
            case HpackIndexing.IncrementalIndexing:
                WriteInteger(nameIndex, 6, 0x40, output);
                break;
            case HpackIndexing.NeverIndexed:
                WriteInteger(nameIndex, 4, 0x10, output);
                break;
            default:
                WriteInteger(nameIndex, 4, 0x00, output);
                break;
        }

        if (nameIndex == 0)
        {
            WriteString(name, output);
        }

        WriteString(value, output);
        if (indexing == HpackIndexing.IncrementalIndexing)
        {
            _table.Insert(name, value);
        }
    }

    private HpackIndexing ChooseIndexing(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (IsListed(name, _neverIndexNames))
        {
            return HpackIndexing.NeverIndexed;
        }

        var size = (long)HpackDynamicTable.EntryOverhead + name.Length + value.Length;
        var maxIndexed = _maxIndexedFieldSize ?? _table.MaxSize / 2;
        return size > maxIndexed || IsListed(name, _doNotIndexNames)
            ? HpackIndexing.WithoutIndexing
            : HpackIndexing.IncrementalIndexing;
    }

    private static bool IsListed(ReadOnlySpan<byte> name, byte[][] names)
    {
        foreach (var candidate in names)
        {
            if (candidate.Length == name.Length && System.Text.Ascii.EqualsIgnoreCase(candidate, name))
            {
                return true;
            }
        }

        return false;
    }

    private void WriteSizeUpdate(int size, IBufferWriter<byte> output)
    {
        WriteInteger(size, 5, 0x20, output);
        _table.SetMaxSize(size);
    }

    private static void WriteInteger(int value, int prefixBits, byte pattern, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(HpackInteger.MaxEncodedLength);
        output.Advance(HpackInteger.Write(span, value, prefixBits, pattern));
    }

    private void WriteString(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        var huffman = false;
        var length = value.Length;
        if (_huffman != HpackHuffmanPolicy.Never)
        {
            var huffmanLength = HpackHuffman.GetEncodedLength(value);
            if (_huffman == HpackHuffmanPolicy.Always || huffmanLength < length)
            {
                huffman = true;
                length = huffmanLength;
            }
        }

        var span = output.GetSpan(HpackInteger.MaxEncodedLength + length);
        var written = HpackInteger.Write(span, length, 7, huffman ? (byte)0x80 : (byte)0);
        if (huffman)
        {
            written += HpackHuffman.Encode(value, span[written..]);
        }
        else
        {
            value.CopyTo(span[written..]);
            written += length;
        }

        output.Advance(written);
    }
}
