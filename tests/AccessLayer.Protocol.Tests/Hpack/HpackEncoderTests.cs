using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Hpack;
using FsCheck;
using FsCheck.Fluent;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackEncoderTests
{
    private static readonly HpackEncoderOptions RawOptions = new() { Huffman = HpackHuffmanPolicy.Never };

    [Theory]
    [MemberData(nameof(Rfc7541Examples.Names), MemberType = typeof(Rfc7541Examples))]
    public void Encode_matches_rfc_appendix_c_byte_for_byte(string example)
    {
        var ex = Rfc7541Examples.All[example];
        var encoder = new HpackEncoder(Rfc7541Examples.EncoderOptions(ex));
        foreach (var block in ex.Blocks)
        {
            Assert.Equal(block.Hex, ToHex(Encode(encoder, block.Headers)));
            Assert.Equal(block.Table, TableEntries(encoder.DynamicTable));
            Assert.Equal(block.TableSize, encoder.DynamicTableSize);
        }
    }

    [Theory]
    [InlineData("custom-key", "custom-header", HpackIndexing.IncrementalIndexing, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", 1)] // C.2.1
    [InlineData(":path", "/sample/path", HpackIndexing.WithoutIndexing, "040c2f73616d706c652f70617468", 0)]                              // C.2.2
    [InlineData("password", "secret", HpackIndexing.NeverIndexed, "100870617373776f726406736563726574", 0)]                           // C.2.3
    [InlineData(":method", "GET", HpackIndexing.IncrementalIndexing, "82", 0)]                                                        // C.2.4
    public void EncodeHeader_matches_rfc_appendix_c2(string name, string value, HpackIndexing indexing, string expected, int tableCount)
    {
        var encoder = new HpackEncoder(RawOptions);
        var output = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(output);
        encoder.EncodeHeader(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), output, indexing);
        Assert.Equal(expected, ToHex(output.WrittenSpan));
        Assert.Equal(tableCount, encoder.DynamicTableCount);
    }

    [Fact]
    public void Encode_never_indexes_sensitive_names_by_default()
    {
        var encoder = new HpackEncoder(RawOptions);
        var block = Encode(encoder, ("authorization", "Bearer abc"), ("cookie", "sid=1"), ("Set-Cookie", "x=y"));
        // 0x1? prefixes: literal never indexed with the static name index (23, 32, 55 → 15 + n).
        Assert.Equal(0x1F, block[0]);
        Assert.Equal(23 - 15, block[1]);
        Assert.Equal(0, encoder.DynamicTableCount);
        Assert.Equal([("authorization", "Bearer abc"), ("cookie", "sid=1"), ("Set-Cookie", "x=y")], DecodeAll(new HpackDecoder(), block));

        // The same again is not indexed either: every value is sent again.
        Assert.Equal(block.Length, Encode(encoder, ("authorization", "Bearer abc"), ("cookie", "sid=1"), ("Set-Cookie", "x=y")).Length);
    }

    [Fact]
    public void Encode_never_indexes_fields_flagged_sensitive()
    {
        var encoder = new HpackEncoder(RawOptions);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode([new HeaderField("x-token", "secret", NeverIndex: true)], output);
        Assert.Equal(0x10, output.WrittenSpan[0]);
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Fact]
    public void Encode_does_not_index_listed_names()
    {
        var encoder = new HpackEncoder(new HpackEncoderOptions { DoNotIndexNames = ["x-request-id"] });
        var block = Encode(encoder, ("x-request-id", "8c6f1a52"));
        Assert.Equal(0x00, block[0]);
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Fact]
    public void Encode_does_not_index_values_bigger_than_half_the_table()
    {
        var encoder = new HpackEncoder(RawOptions);
        var block = Encode(encoder, ("x-big", new string('b', 2100)), ("x-small", "s"));
        Assert.Equal(0x00, block[0]);
        Assert.Equal([("x-small", "s")], TableEntries(encoder.DynamicTable));

        var capped = new HpackEncoder(new HpackEncoderOptions { MaxIndexedFieldSize = 39 });
        Encode(capped, ("x-a", "12345"), ("x-b", "1")); // 40 and 36 octets
        Assert.Equal([("x-b", "1")], TableEntries(capped.DynamicTable));
    }

    [Fact]
    public void Encode_repeated_block_is_one_octet_per_field_except_never_indexed()
    {
        var encoder = new HpackEncoder();
        var fields = MobileRequest("r-1");
        var first = Encode(encoder, fields);
        var second = Encode(encoder, fields);

        // Nine indexed fields, plus authorization as literal never indexed: 0x1F 0x08, length, Huffman octets.
        var token = Encoding.ASCII.GetBytes(fields.Single(f => f.Name == "authorization").Value);
        Assert.Equal(9 + 3 + HpackHuffman.GetEncodedLength(token), second.Length);
        Assert.Equal(fields, DecodeAll(Decoded(first), second));
    }

    [Fact]
    public void Encode_uses_huffman_only_when_shorter()
    {
        var encoder = new HpackEncoder(new HpackEncoderOptions { Huffman = HpackHuffmanPolicy.WhenShorter });
        var output = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(output);
        encoder.EncodeHeader("x"u8, "www.example.com"u8, output, HpackIndexing.WithoutIndexing);
        // 00, name "x" raw (Huffman 'x' is 7 bits = 1 octet: not shorter), value Huffman (12 < 15).
        Assert.Equal("0001788c" + "f1e3c2e5f23a6ba0ab90f4ff", ToHex(output.WrittenSpan));

        output.Clear();
        encoder.EncodeHeader("x"u8, "{}{}"u8, output, HpackIndexing.WithoutIndexing);
        Assert.Equal("000178047b7d7b7d", ToHex(output.WrittenSpan));
    }

    [Fact]
    public void Encode_opens_next_block_with_size_update_after_limit_change()
    {
        var encoder = new HpackEncoder();
        var decoder = new HpackDecoder();
        var fields = MobileRequest("a");
        decoder.Decode(new ReadOnlySequence<byte>(Encode(encoder, fields)), new CollectingHandler());

        encoder.SetDynamicTableSizeLimit(1365);
        decoder.SetDynamicTableSizeLimit(1365);
        var block = Encode(encoder, fields);
        Assert.Equal("3fb60a", ToHex(block.AsSpan(0, 3)));
        Assert.Equal(fields, DecodeAll(decoder, block));
        Assert.Equal(1365, encoder.DynamicTableMaxSize);
        Assert.Equal(TableEntries(encoder.DynamicTable), TableEntries(decoder.DynamicTable));

        // No further update until the limit changes again.
        Assert.NotEqual(0x3F, Encode(encoder, fields)[0]);
    }

    [Fact]
    public void Encode_signals_smallest_then_final_size_when_limit_dips_between_blocks()
    {
        var encoder = new HpackEncoder();
        encoder.SetDynamicTableSizeLimit(100);
        encoder.SetDynamicTableSizeLimit(4096);
        Assert.Equal("3f453fe11f82", ToHex(Encode(encoder, (":method", "GET"))));
        Assert.Equal(4096, encoder.DynamicTableMaxSize);
    }

    [Fact]
    public void Encode_announces_a_cap_below_the_initial_limit_in_the_first_block()
    {
        var encoder = new HpackEncoder(new HpackEncoderOptions { MaxDynamicTableSize = 1024 });
        var block = Encode(encoder, (":method", "GET"));
        Assert.Equal("3fe10782", ToHex(block));
        var decoder = new HpackDecoder();
        DecodeAll(decoder, block);
        Assert.Equal(1024, decoder.DynamicTableMaxSize);

        // A larger limit later is capped: no update, since the size stays 1024.
        encoder.SetDynamicTableSizeLimit(65536);
        Assert.Equal("82", ToHex(Encode(encoder, (":method", "GET"))));
    }

    [Fact]
    public void EncodeHeader_refuses_to_start_without_pending_size_update()
    {
        var encoder = new HpackEncoder();
        encoder.SetDynamicTableSizeLimit(0);
        Assert.Throws<InvalidOperationException>(() =>
            encoder.EncodeHeader(":method"u8, "GET"u8, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void Encode_with_table_size_zero_never_indexes()
    {
        var encoder = new HpackEncoder(new HpackEncoderOptions { MaxDynamicTableSize = 0 });
        var decoder = new HpackDecoder();
        var fields = MobileRequest("z");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(fields, DecodeAll(decoder, Encode(encoder, fields)));
        }

        Assert.Equal(0, encoder.DynamicTableCount);
        Assert.Equal(0, decoder.DynamicTableMaxSize);
    }

    [Fact]
    public void Encode_allocates_nothing_in_steady_state()
    {
        var encoder = new HpackEncoder(new HpackEncoderOptions { DoNotIndexNames = ["x-request-id"] });
        var fields = MobileRequest("4f1c2a9e-8b7d-4c3e-a1f0-5d6b7c8e9f01").Select(f => new HeaderField(f.Name, f.Value)).ToArray();
        var output = new ArrayBufferWriter<byte>(4096);
        for (var i = 0; i < 50; i++)
        {
            output.ResetWrittenCount();
            encoder.Encode(fields, output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            output.ResetWrittenCount();
            encoder.Encode(fields, output);
            encoder.Encode((IEnumerable<HeaderField>)fields, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Random_header_lists_round_trip_through_our_decoder()
    {
        var token = Gen.Elements("a", "b", "x-id", "content-type", ":path", "authorization", "cookie", "date", "/", "")
            .SelectMany(prefix => Gen.Choose(0, 40).SelectMany(n => Gen.Elements('a', '0', '~', ' ', '{', 'é').ArrayOf(n)
                .Select(chars => prefix + new string(chars))));
        var field = token.SelectMany(name => token.SelectMany(value => Gen.Choose(0, 9).Select(flag => new HeaderField(name, value, flag == 0))));
        var scenario =
            from blocks in field.ArrayOf().ArrayOf()
            from tableSize in Gen.Elements(0, 64, 256, 4096)
            from huffman in Gen.Elements(HpackHuffmanPolicy.WhenShorter, HpackHuffmanPolicy.Always, HpackHuffmanPolicy.Never)
            select (blocks, tableSize, huffman);

        Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var encoder = new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = s.tableSize, MaxDynamicTableSize = s.tableSize, Huffman = s.huffman });
            var decoder = new HpackDecoder(new HpackDecoderOptions { DynamicTableSizeLimit = s.tableSize });
            foreach (var block in s.blocks)
            {
                var output = new ArrayBufferWriter<byte>();
                encoder.Encode(block, output);
                var decoded = decoder.Decode(new ReadOnlySequence<byte>(output.WrittenMemory));
                Assert.Equal(block.Select(f => (f.Name, f.Value)), decoded.Select(f => (f.Name, f.Value)));
                Assert.Equal(TableEntries(encoder.DynamicTable), TableEntries(decoder.DynamicTable));
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    internal static (string Name, string Value)[] MobileRequest(string requestId) =>
    [
        (":method", "POST"),
        (":path", "/api/feed.FeedService/ListTimeline"),
        ("service", "feed"),
        ("op", "ListTimeline"),
        ("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl"),
        ("user-agent", "AccessLayerSDK/2.3.1 (Android 14; Pixel 8)"),
        ("accept-encoding", "gzip, deflate"),
        ("x-request-id", requestId),
        ("content-type", "application/x-protobuf"),
        ("app-version", "8.12.0"),
    ];

    private static HpackDecoder Decoded(byte[] first)
    {
        var decoder = new HpackDecoder();
        DecodeAll(decoder, first);
        return decoder;
    }
}
