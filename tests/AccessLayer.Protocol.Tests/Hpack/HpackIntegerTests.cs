using System.Buffers;
using AccessLayer.Protocol.Hpack;
using FsCheck;
using FsCheck.Xunit;
using static AccessLayer.Protocol.Tests.Hpack.HpackTestUtil;

namespace AccessLayer.Protocol.Tests.Hpack;

public class HpackIntegerTests
{
    [Theory]
    [InlineData(10, 5, "0a")]          // C.1.1
    [InlineData(1337, 5, "1f9a0a")]    // C.1.2
    [InlineData(42, 8, "2a")]          // C.1.3
    public void Write_matches_rfc_appendix_c1(int value, int prefixBits, string expected)
    {
        var buffer = new byte[HpackInteger.MaxEncodedLength];
        var written = HpackInteger.Write(buffer, value, prefixBits, 0);
        Assert.Equal(expected, ToHex(buffer.AsSpan(0, written)));
        Assert.Equal(written, HpackInteger.EncodedLength(value, prefixBits));
    }

    [Theory]
    [InlineData(5, "0a", 10)]
    [InlineData(5, "1f9a0a", 1337)]
    [InlineData(8, "2a", 42)]
    [InlineData(5, "1f00", 31)]
    [InlineData(7, "7f80ffffff07", int.MaxValue)] // 127 + 0x7FFFFF80: the largest accepted value
    public void Read_decodes_rfc_appendix_c1_and_boundaries(int prefixBits, string hex, int expected)
    {
        var bytes = Hex(hex);
        var reader = new SequenceReader<byte>(OneByteSegments(bytes));
        reader.TryRead(out var first);
        Assert.Equal(expected, HpackInteger.Read(first, prefixBits, ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void Read_keeps_pattern_bits_out_of_the_prefix()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Hex("ea")));
        reader.TryRead(out var first);
        Assert.Equal(10, HpackInteger.Read(first, 5, ref reader));
    }

    [Theory]
    [InlineData("1f")]
    [InlineData("1f9a")]
    [InlineData("1fffffff")]
    public void Read_rejects_truncated_integer(string hex)
    {
        var ex = Assert.Throws<HpackDecodingException>(() => ReadAll(hex, 5));
        Assert.Equal(HpackErrorKind.Truncated, ex.Kind);
    }

    [Theory]
    [InlineData("7f81ffffff07")]         // 127 + 0x7FFFFF81 > 2^31 - 1
    [InlineData("7fffffffff0f")]         // needs 35 bits
    [InlineData("7f808080808000")]       // a sixth continuation group, even if it adds nothing
    [InlineData("7fffffffffffffffffff")] // a long run of continuation octets stops early
    public void Read_rejects_integer_overflow(string hex)
    {
        var ex = Assert.Throws<HpackDecodingException>(() => ReadAll(hex, 7));
        Assert.Equal(HpackErrorKind.IntegerOverflow, ex.Kind);
    }

    [Property(MaxTest = 300)]
    public bool Write_then_read_round_trips(NonNegativeInt value, byte prefixSeed)
    {
        var prefixBits = 1 + (prefixSeed % 8);
        var buffer = new byte[HpackInteger.MaxEncodedLength];
        var written = HpackInteger.Write(buffer, value.Get, prefixBits, 0);
        var reader = new SequenceReader<byte>(OneByteSegments(buffer[..written]));
        reader.TryRead(out var first);
        return HpackInteger.Read(first, prefixBits, ref reader) == value.Get && reader.End;
    }

    [Fact]
    public void Write_round_trips_int_max_value_in_six_octets()
    {
        var buffer = new byte[HpackInteger.MaxEncodedLength];
        var written = HpackInteger.Write(buffer, int.MaxValue, 1, 0);
        Assert.Equal(6, written);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer));
        reader.TryRead(out var first);
        Assert.Equal(int.MaxValue, HpackInteger.Read(first, 1, ref reader));
    }

    private static int ReadAll(string hex, int prefixBits)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Hex(hex)));
        reader.TryRead(out var first);
        return HpackInteger.Read(first, prefixBits, ref reader);
    }
}
