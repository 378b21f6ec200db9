using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Hpack;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackDecoderTests
{
    [Fact]
    public void Decode_c2_1_literal_with_indexing_adds_to_table()
    {
        var decoder = new HpackDecoder();
        var fields = DecodeAll(decoder, Hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
        Assert.Equal([("custom-key", "custom-header")], fields);
        Assert.Equal([("custom-key", "custom-header")], TableEntries(decoder.DynamicTable));
        Assert.Equal(55, decoder.DynamicTableSize);
    }

    [Theory]
    [InlineData("040c2f73616d706c652f70617468", ":path", "/sample/path")]   // C.2.2 without indexing
    [InlineData("100870617373776f726406736563726574", "password", "secret")] // C.2.3 never indexed
    [InlineData("82", ":method", "GET")]                                     // C.2.4 indexed
    public void Decode_c2_representations_leave_table_empty(string hex, string name, string value)
    {
        var decoder = new HpackDecoder();
        Assert.Equal([(name, value)], DecodeAll(decoder, Hex(hex)));
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Equal(0, decoder.DynamicTableSize);
    }

    [Theory]
    [MemberData(nameof(Rfc7541Examples.Names), MemberType = typeof(Rfc7541Examples))]
    public void Decode_rfc_appendix_c_sequences_yield_headers_and_table_state(string example)
    {
        var ex = Rfc7541Examples.All[example];
        var decoder = new HpackDecoder(Rfc7541Examples.DecoderOptions(ex));
        foreach (var block in ex.Blocks)
        {
            Assert.Equal(block.Headers, DecodeAll(decoder, block.Bytes));
            Assert.Equal(block.Table, TableEntries(decoder.DynamicTable));
            Assert.Equal(block.TableSize, decoder.DynamicTableSize);
        }
    }

    [Theory]
    [MemberData(nameof(Rfc7541Examples.Names), MemberType = typeof(Rfc7541Examples))]
    public void Decode_is_identical_for_a_block_split_at_every_octet_boundary(string example)
    {
        var ex = Rfc7541Examples.All[example];
        for (var target = 0; target < ex.Blocks.Length; target++)
        {
            var bytes = ex.Blocks[target].Bytes;
            for (var cut = 0; cut <= bytes.Length; cut++)
            {
                AssertDecodesWith(ex, target, Split(bytes, cut));
                for (var second = cut; second <= bytes.Length; second += 3)
                {
                    AssertDecodesWith(ex, target, Split(bytes, cut, second));
                }
            }

            AssertDecodesWith(ex, target, OneByteSegments(bytes));
        }
    }

    [Fact]
    public void Decode_with_struct_handler_allocates_nothing_in_steady_state()
    {
        var ex = Rfc7541Examples.All["C.4"];
        var decoder = new HpackDecoder();
        foreach (var block in ex.Blocks)
        {
            DecodeAll(decoder, block.Bytes);
        }

        // The last block again (all of it now indexed or literal without new names), split so that every
        // Huffman string crosses a segment boundary.
        var bytes = ex.Blocks[2].Bytes;
        var sequence = OneByteSegments(bytes);
        var handler = new CountingHandler();
        for (var i = 0; i < 200; i++)
        {
            // Each pass indexes custom-key again: let the table's buffers reach their final size first.
            decoder.Decode(sequence, ref handler);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            decoder.Decode(sequence, ref handler);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(5 * 300, handler.Count);
    }

    [Fact]
    public void Decode_list_overload_returns_header_fields()
    {
        var decoder = new HpackDecoder();
        var fields = decoder.Decode(new ReadOnlySequence<byte>(Rfc7541Examples.All["C.3"].Blocks[0].Bytes));
        Assert.Equal(new HeaderField(":authority", "www.example.com"), fields[3]);
        Assert.Equal(4, fields.Count);
    }

    [Theory]
    [InlineData("80")]          // index 0
    [InlineData("be")]          // 62 with an empty dynamic table
    [InlineData("ff80ffffff07")] // 2^31 - 1
    [InlineData("7e0161")]      // literal naming index 62
    [InlineData("0f3000")]      // literal without indexing naming index 63
    public void Decode_rejects_invalid_index(string hex) => AssertRejects(hex, HpackErrorKind.InvalidIndex);

    [Fact]
    public void Decode_rejects_size_update_above_the_limit() =>
        AssertRejects("3fe21f", HpackErrorKind.TableSizeUpdateTooLarge); // 4097 > 4096

    [Fact]
    public void Decode_applies_size_update_within_the_limit()
    {
        var decoder = new HpackDecoder();
        DecodeAll(decoder, Hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
        DecodeAll(decoder, Hex("20 3f45"));  // to 0 (evicts everything), then to 100
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Equal(100, decoder.DynamicTableMaxSize);
    }

    [Theory]
    [InlineData("8220")]
    [InlineData("82 3f45")]
    [InlineData("20 82 20")]
    public void Decode_rejects_size_update_after_a_field(string hex) =>
        AssertRejects(hex, HpackErrorKind.TableSizeUpdateMisplaced);

    [Fact]
    public void Decode_requires_size_update_after_the_limit_shrinks()
    {
        var decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(100);
        var ex = Assert.Throws<HpackDecodingException>(() => DecodeAll(decoder, Hex("82")));
        Assert.Equal(HpackErrorKind.TableSizeUpdateMisplaced, ex.Kind);

        decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(100);
        Assert.Throws<HpackDecodingException>(() => DecodeAll(decoder, []));

        decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(100);
        Assert.Equal([(":method", "GET")], DecodeAll(decoder, Hex("3f45 82")));
        Assert.Equal(100, decoder.DynamicTableMaxSize);
        Assert.Equal([(":method", "GET")], DecodeAll(decoder, Hex("82"))); // satisfied once
    }

    [Fact]
    public void Decode_bounds_first_update_by_smallest_limit_since_last_block()
    {
        // Limit 100 then back to 4096 before the next block: the encoder must first go down to <= 100.
        var decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(100);
        decoder.SetDynamicTableSizeLimit(4096);
        var ex = Assert.Throws<HpackDecodingException>(() => DecodeAll(decoder, Hex("3fe11f 82")));
        Assert.Equal(HpackErrorKind.TableSizeUpdateTooLarge, ex.Kind);

        decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(100);
        decoder.SetDynamicTableSizeLimit(4096);
        DecodeAll(decoder, Hex("3f45 3fe11f 82"));
        Assert.Equal(4096, decoder.DynamicTableMaxSize);
    }

    [Fact]
    public void Decode_does_not_require_update_when_limit_grows()
    {
        var decoder = new HpackDecoder();
        decoder.SetDynamicTableSizeLimit(8192);
        Assert.Equal([(":method", "GET")], DecodeAll(decoder, Hex("82")));
        Assert.Equal(4096, decoder.DynamicTableMaxSize);
        DecodeAll(decoder, Hex("3fe13f")); // 8192
        Assert.Equal(8192, decoder.DynamicTableMaxSize);
    }

    [Theory]
    [InlineData("ff")]           // indexed, integer continues past the end
    [InlineData("ff80")]
    [InlineData("3f")]           // size update integer
    [InlineData("40")]           // literal without name
    [InlineData("4005616263")]   // name length 5, 3 octets left
    [InlineData("410361")]       // value shorter than declared
    [InlineData("41")]           // value missing
    [InlineData("407f")]         // string length integer truncated
    public void Decode_rejects_truncated_block(string hex) => AssertRejects(hex, HpackErrorKind.Truncated);

    [Theory]
    [InlineData("ffffffffff0f")]
    [InlineData("0f808080808080")]
    [InlineData("407fffffffff0f")]
    public void Decode_rejects_integer_overflow(string hex) => AssertRejects(hex, HpackErrorKind.IntegerOverflow);

    [Theory]
    [InlineData("40810000")]              // name "0" padded with 000
    [InlineData("4082f8ff00")]            // '&' then 8 padding bits
    [InlineData("4084ffffffff00")]        // EOS in the name
    [InlineData("0184ffffffff")]          // EOS in the value
    public void Decode_rejects_bad_huffman(string hex) => AssertRejects(hex, HpackErrorKind.InvalidHuffman);

    [Fact]
    public void Decode_rejects_string_longer_than_limit_before_reading_it()
    {
        // Declares 2^20 octets but carries none: the length alone is refused, nothing is buffered.
        var options = new HpackDecoderOptions { MaxStringLength = 16 };
        AssertRejects("407fe1ff3f", HpackErrorKind.StringTooLong, options);
        AssertRejects("0111" + new string('6', 34), HpackErrorKind.StringTooLong, options);
    }

    [Fact]
    public void Decode_rejects_huffman_string_that_decodes_past_the_limit()
    {
        // Twelve '0' (5 bits each) fit in 8 octets but decode to 12 > 10.
        var encoded = new byte[HpackHuffman.GetEncodedLength("000000000000"u8)];
        HpackHuffman.Encode("000000000000"u8, encoded);
        var block = Hex("01" + (0x80 | encoded.Length).ToString("x2") + ToHex(encoded));
        AssertRejects(ToHex(block), HpackErrorKind.StringTooLong, new HpackDecoderOptions { MaxStringLength = 10 });
    }

    [Fact]
    public void Decode_rejects_header_list_too_large_but_keeps_the_table_in_step()
    {
        var decoder = new HpackDecoder(new HpackDecoderOptions { MaxHeaderListSize = 100 });
        var handler = new CollectingHandler();
        // :method GET (42), :scheme http (43), then a new indexed literal after the limit is crossed.
        var block = Hex("82 86 400a637573746f6d2d6b65790d637573746f6d2d686561646572");
        var ex = Assert.Throws<HpackDecodingException>(() => decoder.Decode(new ReadOnlySequence<byte>(block), handler));
        Assert.Equal(HpackErrorKind.HeaderListTooLarge, ex.Kind);
        Assert.False(ex.IsConnectionError);
        Assert.Equal([(":method", "GET"), (":scheme", "http")], handler.Fields);

        // The entry added after the limit still went into the table, so the next block can name it.
        Assert.Equal([("custom-key", "custom-header")], DecodeAll(decoder, Hex("be")));
    }

    [Fact]
    public void Decode_stops_an_hpack_bomb_at_the_header_list_limit_with_bounded_memory()
    {
        // One 4000-octet entry, then 100 000 one-octet references to it: 400 MB if materialised.
        var value = new string('v', 4000);
        var header = new List<byte> { 0x40, 0x01, (byte)'x', 0x7F };
        var length = new byte[HpackInteger.MaxEncodedLength];
        header.AddRange(length.AsSpan(0, HpackInteger.Write(length, 4000, 7, 0)).ToArray()[1..]);
        header.AddRange(Encoding.ASCII.GetBytes(value));
        header.AddRange(Enumerable.Repeat((byte)0xBE, 100_000));
        var block = new ReadOnlySequence<byte>(header.ToArray());

        var decoder = new HpackDecoder();
        var handler = new CountingHandler();
        decoder.Decode(new ReadOnlySequence<byte>(Hex("82")), ref handler);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<HpackDecodingException>(() => decoder.Decode(block, ref handler));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(HpackErrorKind.HeaderListTooLarge, ex.Kind);
        Assert.True(handler.Count <= 1 + (16 * 1024 / 4000), $"{handler.Count} headers delivered");
        Assert.True(allocated < 32 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void Decode_refuses_further_blocks_after_a_connection_error()
    {
        var decoder = new HpackDecoder();
        Assert.Throws<HpackDecodingException>(() => DecodeAll(decoder, Hex("80")));
        Assert.Throws<InvalidOperationException>(() => DecodeAll(decoder, Hex("82")));
    }

    [Fact]
    public void Decode_refuses_further_blocks_after_the_handler_threw()
    {
        var decoder = new HpackDecoder();
        Assert.Throws<FormatException>(() => decoder.Decode(new ReadOnlySequence<byte>(Hex("82")), new ThrowingHandler()));
        Assert.Throws<InvalidOperationException>(() => DecodeAll(decoder, Hex("82")));
    }

    [Property(MaxTest = 500)]
    public void Random_bytes_end_in_success_or_decoding_exception(byte[] data, bool warm)
    {
        var decoder = WarmDecoder(warm);
        DecodeHostile(decoder, data);
    }

    [Fact]
    public void Mutated_valid_blocks_end_in_success_or_decoding_exception_with_bounded_memory()
    {
        var blocks = Rfc7541Examples.All.Values.SelectMany(e => e.Blocks).Select(b => b.Bytes).ToArray();
        var mutation =
            from index in Gen.Choose(0, blocks.Length - 1)
            from position in Gen.Choose(0, 200)
            from kind in Gen.Choose(0, 3)
            from octet in Gen.Choose(0, 255)
            from cut in Gen.Choose(0, 200)
            select (index, position, kind, (byte)octet, cut);

        Prop.ForAll(mutation.ToArbitrary(), m =>
        {
            var list = blocks[m.index].ToList();
            var at = m.position % (list.Count + 1);
            switch (m.kind)
            {
                case 0 when at < list.Count: list[at] = m.Item4; break;
                case 1: list.Insert(at, m.Item4); break;
                case 2 when at < list.Count: list.RemoveAt(at); break;
                default: list[at % list.Count] ^= (byte)(1 << (m.Item4 % 8)); break;
            }

            var bytes = list.ToArray();
            var decoder = WarmDecoder(true);
            DecodeHostile(decoder, bytes, m.cut % (bytes.Length + 1));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    private static HpackDecoder WarmDecoder(bool warm)
    {
        var decoder = new HpackDecoder(new HpackDecoderOptions { MaxHeaderListSize = 4096, MaxStringLength = 1024 });
        if (warm)
        {
            foreach (var block in Rfc7541Examples.All["C.4"].Blocks)
            {
                DecodeAll(decoder, block.Bytes);
            }
        }

        return decoder;
    }

    private static void DecodeHostile(HpackDecoder decoder, byte[] data, int cut = 0)
    {
        var handler = new CountingHandler();
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            decoder.Decode(Split(data, Math.Min(cut, data.Length)), ref handler);
        }
        catch (HpackDecodingException)
        {
        }

        // Limits are 4 KiB of headers and 1 KiB strings: a few pooled buffers and an exception at most.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for a {data.Length}-octet block");
        Assert.True(handler.Bytes <= 4096, $"{handler.Bytes} header octets delivered");
    }

    private static void AssertDecodesWith(Rfc7541Examples.Example ex, int target, ReadOnlySequence<byte> sequence)
    {
        var decoder = new HpackDecoder(Rfc7541Examples.DecoderOptions(ex));
        for (var i = 0; i < target; i++)
        {
            DecodeAll(decoder, ex.Blocks[i].Bytes);
        }

        Assert.Equal(ex.Blocks[target].Headers, DecodeAll(decoder, sequence));
        Assert.Equal(ex.Blocks[target].Table, TableEntries(decoder.DynamicTable));
    }

    private static void AssertRejects(string hex, HpackErrorKind kind, HpackDecoderOptions? options = null)
    {
        var bytes = Hex(hex);
        var ex = Assert.Throws<HpackDecodingException>(() => DecodeAll(new HpackDecoder(options), bytes));
        Assert.Equal(kind, ex.Kind);

        // The same verdict however the block is segmented.
        ex = Assert.Throws<HpackDecodingException>(() => DecodeAll(new HpackDecoder(options), OneByteSegments(bytes)));
        Assert.Equal(kind, ex.Kind);
    }

    private sealed class ThrowingHandler : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => throw new FormatException("bad header");
    }

    private struct CountingHandler : IHpackHeaderHandler
    {
        public int Count;
        public long Bytes;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            Count++;
            Bytes += 32 + name.Length + value.Length;
        }
    }
}
