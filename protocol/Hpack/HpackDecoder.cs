using System.Buffers;
using System.Text;

namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// Decodes complete header blocks (RFC 7541) of one direction of one connection; it owns that direction's
/// dynamic table. A block may arrive in any number of segments split anywhere (inside integers, string
/// lengths or Huffman strings). Names and values are handed out as spans: straight from the input when a
/// string lies in one segment, else from a pooled scratch buffer, so decoding allocates nothing.
/// Not thread-safe: one decoder per connection direction, used by that connection's reader.
/// </summary>
public sealed class HpackDecoder
{
    private readonly HpackDynamicTable _table;
    private readonly int _maxHeaderListSize;
    private readonly int _maxStringLength;
    private int _limit;
    private int _smallestLimitSinceLastBlock;
    private bool _sizeUpdateRequired;
    private bool _faulted;

    public HpackDecoder(HpackDecoderOptions? options = null)
    {
        options ??= new HpackDecoderOptions();
        options.Validate();
        _limit = options.DynamicTableSizeLimit;
        _smallestLimitSinceLastBlock = _limit;
        _maxHeaderListSize = options.MaxHeaderListSize;
        _maxStringLength = options.MaxStringLength;
        _table = new HpackDynamicTable(_limit);
    }

    /// <summary>The acknowledged limit the encoder's size updates must respect.</summary>
    public int DynamicTableSizeLimit => _limit;

    /// <summary>The table's current maximum size (last size update, or the initial limit).</summary>
    public int DynamicTableMaxSize => _table.MaxSize;

    /// <summary>The table's current size (Σ 32 + name + value).</summary>
    public int DynamicTableSize => _table.Size;

    public int DynamicTableCount => _table.Count;

    internal HpackDynamicTable DynamicTable => _table;

    /// <summary>
    /// Applies a new limit once the peer has acknowledged it (HTTP/2: SETTINGS ACK). If the limit drops
    /// below the table's size, the next block must open with a size update no larger than the smallest
    /// limit set since the previous block (RFC 7541 §4.2).
    /// </summary>
    public void SetDynamicTableSizeLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _limit = limit;
        _smallestLimitSinceLastBlock = Math.Min(_smallestLimitSinceLastBlock, limit);
        if (_smallestLimitSinceLastBlock < _table.MaxSize)
        {
            _sizeUpdateRequired = true;
        }
    }

    /// <summary>Decodes one block and returns its fields as strings (UTF-8). Allocates; for tools and tests.</summary>
    public List<HeaderField> Decode(in ReadOnlySequence<byte> block)
    {
        var handler = new ListHandler(new List<HeaderField>());
        Decode(block, ref handler);
        return handler.Fields;
    }

    /// <inheritdoc cref="Decode{THandler}(in ReadOnlySequence{byte}, ref THandler)"/>
    public void Decode(in ReadOnlySequence<byte> block, IHpackHeaderHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Decode(block, ref handler);
    }

    /// <summary>
    /// Decodes one complete header block, delivering each field to <paramref name="handler"/> in order.
    /// Throws <see cref="HpackDecodingException"/> on any violation; after a connection error
    /// (<see cref="HpackDecodingException.IsConnectionError"/>) or an exception from the handler, the
    /// decoder refuses further blocks.
    /// On <see cref="HpackErrorKind.HeaderListTooLarge"/> the handler has seen only a prefix of the list,
    /// the rest of the block was still applied to the table, and the decoder stays usable.
    /// </summary>
    public void Decode<THandler>(in ReadOnlySequence<byte> block, ref THandler handler)
        where THandler : IHpackHeaderHandler, allows ref struct
    {
        if (_faulted)
        {
            throw new InvalidOperationException("The HPACK decoder failed on an earlier block; its context is lost.");
        }

        var reader = new SequenceReader<byte>(block);
        var nameScratch = default(Scratch);
        var valueScratch = default(Scratch);
        try
        {
            DecodeBlock(ref reader, ref handler, ref nameScratch, ref valueScratch);
        }
        catch (HpackDecodingException e) when (!e.IsConnectionError)
        {
            throw;
        }
        catch
        {
            // Part of the block may have reached the table: the context can no longer be trusted.
            _faulted = true;
            throw;
        }
        finally
        {
            nameScratch.Return();
            valueScratch.Return();
        }
    }

    private void DecodeBlock<THandler>(ref SequenceReader<byte> reader, ref THandler handler, ref Scratch nameScratch, ref Scratch valueScratch)
        where THandler : IHpackHeaderHandler, allows ref struct
    {
        var fieldSeen = false;
        var updateSeen = false;
        long listSize = 0;
        var listTooLarge = false;

        while (reader.TryRead(out var first))
        {
            if ((first & 0xE0) == 0x20)
            {
                // §6.3 dynamic table size update: only before the first field.
                if (fieldSeen)
                {
                    throw new HpackDecodingException(HpackErrorKind.TableSizeUpdateMisplaced,
                        "A dynamic table size update follows a header field.");
                }

                var size = HpackInteger.Read(first, 5, ref reader);
                var bound = _sizeUpdateRequired && !updateSeen ? _smallestLimitSinceLastBlock : _limit;
                if (size > bound)
                {
                    throw new HpackDecodingException(HpackErrorKind.TableSizeUpdateTooLarge,
                        $"Dynamic table size update to {size} exceeds the limit {bound}.");
                }

                _table.SetMaxSize(size);
                updateSeen = true;
                continue;
            }

            if (!fieldSeen)
            {
                RequireSizeUpdate(updateSeen);
                fieldSeen = true;
            }

            ReadOnlySpan<byte> name;
            ReadOnlySpan<byte> value;
            var indexing = false;
            if ((first & 0x80) != 0)
            {
                // §6.1 indexed header field.
                var index = HpackInteger.Read(first, 7, ref reader);
                name = GetName(index);
                value = GetValue(index);
            }
            else
            {
                // §6.2: 01 incremental indexing (6-bit prefix); 0000 without / 0001 never indexed (4-bit).
                indexing = (first & 0x40) != 0;
                var nameIndex = HpackInteger.Read(first, indexing ? 6 : 4, ref reader);
                name = nameIndex == 0 ? ReadString(ref reader, ref nameScratch) : GetName(nameIndex);
                value = ReadString(ref reader, ref valueScratch);
            }

            listSize += HpackDynamicTable.EntryOverhead + name.Length + value.Length;
            if (listSize > _maxHeaderListSize)
            {
                // Keep applying the block so the table stays in step with the encoder; the list is lost.
                listTooLarge = true;
            }

            if (!listTooLarge)
            {
                handler.OnHeader(name, value);
            }

            if (indexing)
            {
                _table.Insert(name, value);
            }
        }

        if (!fieldSeen)
        {
            RequireSizeUpdate(updateSeen);
        }

        _sizeUpdateRequired = false;
        _smallestLimitSinceLastBlock = _limit;
        if (listTooLarge)
        {
            throw new HpackDecodingException(HpackErrorKind.HeaderListTooLarge,
                $"The header list exceeds {_maxHeaderListSize} octets.");
        }
    }

    private void RequireSizeUpdate(bool updateSeen)
    {
        if (_sizeUpdateRequired && !updateSeen)
        {
            throw new HpackDecodingException(HpackErrorKind.TableSizeUpdateMisplaced,
                "The dynamic table size limit shrank but the block does not open with a size update.");
        }
    }

    private ReadOnlySpan<byte> GetName(int index)
    {
        ValidateIndex(index);
        return index <= HpackStaticTable.Count
            ? HpackStaticTable.GetName(index)
            : _table.GetName(index - HpackStaticTable.Count - 1);
    }

    private ReadOnlySpan<byte> GetValue(int index) => index <= HpackStaticTable.Count
        ? HpackStaticTable.GetValue(index)
        : _table.GetValue(index - HpackStaticTable.Count - 1);

    private void ValidateIndex(int index)
    {
        if (index == 0 || index > HpackStaticTable.Count + _table.Count)
        {
            throw new HpackDecodingException(HpackErrorKind.InvalidIndex,
                $"Index {index} is outside the static and dynamic tables (1..{HpackStaticTable.Count + _table.Count}).");
        }
    }

    private ReadOnlySpan<byte> ReadString(scoped ref SequenceReader<byte> reader, scoped ref Scratch scratch)
    {
        if (!reader.TryRead(out var first))
        {
            throw new HpackDecodingException(HpackErrorKind.Truncated, "The header block ends before a string literal.");
        }

        var length = HpackInteger.Read(first, 7, ref reader);
        if (length > _maxStringLength)
        {
            throw new HpackDecodingException(HpackErrorKind.StringTooLong,
                $"A string literal of {length} octets exceeds the maximum {_maxStringLength}.");
        }

        if (length > reader.Remaining)
        {
            throw new HpackDecodingException(HpackErrorKind.Truncated, "The header block ends inside a string literal.");
        }

        if ((first & 0x80) == 0)
        {
            var unread = reader.UnreadSpan;
            if (unread.Length >= length)
            {
                reader.Advance(length);
                return unread[..length];
            }

            var copy = scratch.Get(length)[..length];
            reader.TryCopyTo(copy);
            reader.Advance(length);
            return copy;
        }

        // Huffman output is at most 8/5 of the input (the shortest code is 5 bits), capped by the limit.
        var capacity = (int)Math.Min(_maxStringLength, (length * 8L / 5) + 1);
        var destination = scratch.Get(capacity)[..capacity];
        var state = 0;
        var written = 0;
        var remaining = length;
        while (remaining > 0)
        {
            var unread = reader.UnreadSpan;
            var take = Math.Min(unread.Length, remaining);
            written += HpackHuffman.Decode(unread[..take], destination[written..], ref state);
            reader.Advance(take);
            remaining -= take;
        }

        HpackHuffman.ValidateEnd(state);
        return destination[..written];
    }

    /// <summary>A pooled buffer rented on first need and returned when the block is done.</summary>
    private struct Scratch
    {
        private byte[]? _array;

        public Span<byte> Get(int length)
        {
            if (_array is null || _array.Length < length)
            {
                Return();
                _array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 256));
            }

            return _array;
        }

        public void Return()
        {
            if (_array is not null)
            {
                ArrayPool<byte>.Shared.Return(_array);
                _array = null;
            }
        }
    }

    private readonly struct ListHandler(List<HeaderField> fields) : IHpackHeaderHandler
    {
        public List<HeaderField> Fields { get; } = fields;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            Fields.Add(new HeaderField(Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value)));
    }
}
