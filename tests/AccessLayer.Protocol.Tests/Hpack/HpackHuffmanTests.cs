using System.Text;
using AccessLayer.Protocol.Hpack;
using FsCheck.Xunit;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackHuffmanTests
{
    // RFC 7541 Appendix C.4 / C.6 string literals.
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3771a4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    [InlineData("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007")]
    public void Encode_and_decode_match_rfc_examples(string text, string hex)
    {
        var raw = Encoding.ASCII.GetBytes(text);
        var expected = Hex(hex);
        Assert.Equal(expected.Length, HpackHuffman.GetEncodedLength(raw));
        var encoded = new byte[expected.Length];
        Assert.Equal(expected.Length, HpackHuffman.Encode(raw, encoded));
        Assert.Equal(hex, ToHex(encoded));

        var decoded = new byte[raw.Length * 2];
        var written = HpackHuffman.Decode(expected, decoded);
        Assert.Equal(text, Encoding.ASCII.GetString(decoded, 0, written));
    }

    [Fact]
    public void Every_symbol_round_trips_alone_and_split_at_every_octet()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var encoded = new byte[HpackHuffman.GetEncodedLength(all)];
        HpackHuffman.Encode(all, encoded);
        for (var cut = 0; cut <= encoded.Length; cut++)
        {
            var output = new byte[all.Length];
            var state = 0;
            var written = HpackHuffman.Decode(encoded.AsSpan(0, cut), output, ref state);
            written += HpackHuffman.Decode(encoded.AsSpan(cut), output.AsSpan(written), ref state);
            HpackHuffman.ValidateEnd(state);
            Assert.Equal(all, output.AsSpan(0, written).ToArray());
        }
    }

    [Property(MaxTest = 300)]
    public bool Random_octets_round_trip(byte[] data)
    {
        var encoded = new byte[HpackHuffman.GetEncodedLength(data)];
        HpackHuffman.Encode(data, encoded);
        var decoded = new byte[data.Length];
        var written = HpackHuffman.Decode(encoded, decoded);
        return decoded.AsSpan(0, written).SequenceEqual(data);
    }

    [Fact]
    public void Decode_rejects_eos_symbol()
    {
        // 30 one bits are EOS; padded with two more ones to four octets.
        AssertInvalid("ffffffff");
        // 'a' (00011) then EOS then padding.
        AssertInvalid("1fffffffff");
    }

    [Fact]
    public void Decode_rejects_padding_longer_than_seven_bits()
    {
        // '0' is 00000: "00000111 11111111" leaves 11 padding bits.
        AssertInvalid("07ff");
        // A whole octet of padding after a complete symbol ("a" = 00011 + 111 then 11111111).
        AssertInvalid("1fff");
    }

    [Fact]
    public void Decode_rejects_padding_that_is_not_all_ones()
    {
        // '0' (00000) followed by 000 instead of 111.
        AssertInvalid("00");
        // 'a' (00011) then 101.
        AssertInvalid("1d");
    }

    [Fact]
    public void Decode_accepts_up_to_seven_padding_bits()
    {
        var output = new byte[4];
        Assert.Equal(1, HpackHuffman.Decode(Hex("07"), output)); // '0' + 111
        Assert.Equal((byte)'0', output[0]);
        Assert.Equal(0, HpackHuffman.Decode([], output));
    }

    [Fact]
    public void Decode_stops_at_the_destination_length()
    {
        var encoded = new byte[HpackHuffman.GetEncodedLength("aaaa"u8)];
        HpackHuffman.Encode("aaaa"u8, encoded);
        var ex = Assert.Throws<HpackDecodingException>(() => HpackHuffman.Decode(encoded, new byte[3]));
        Assert.Equal(HpackErrorKind.StringTooLong, ex.Kind);
    }

    private static void AssertInvalid(string hex)
    {
        var ex = Assert.Throws<HpackDecodingException>(() => HpackHuffman.Decode(Hex(hex), new byte[16]));
        Assert.Equal(HpackErrorKind.InvalidHuffman, ex.Kind);
    }
}
