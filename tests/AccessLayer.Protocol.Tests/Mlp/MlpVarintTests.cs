using System.Buffers;
using AccessLayer.Protocol.Mlp;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpVarintTests
{
    [Theory]
    [InlineData(0ul, "00")]
    [InlineData(127ul, "7F")]
    [InlineData(128ul, "8001")]
    [InlineData(300ul, "AC02")]
    [InlineData(16384ul, "808001")]
    [InlineData(ulong.MaxValue, "FFFFFFFFFFFFFFFFFF01")]
    public void Write_produces_the_minimal_LEB128_bytes(ulong value, string hex)
    {
        var buffer = new byte[10];
        var n = MlpVarint.Write(buffer, value);

        Assert.Equal(hex, Convert.ToHexString(buffer, 0, n));
        Assert.Equal(n, MlpVarint.GetByteCount(value));
    }

    [Fact]
    public void Round_trips_any_value()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), Prop.ForAll(ArbMap.Default.ArbFor<ulong>(), value =>
        {
            var buffer = new byte[10];
            var n = MlpVarint.Write(buffer, value);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, n));
            Assert.True(MlpVarint.TryRead(ref reader, MlpVarint.MaxLength64, out var read));
            Assert.Equal(value, read);
            Assert.True(reader.End);
        }));
    }

    [Fact]
    public void TryRead_returns_false_without_moving_when_bytes_run_out()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>([0x80, 0x80]));
        Assert.False(MlpVarint.TryRead(ref reader, MlpVarint.MaxLength32, out _));
        Assert.Equal(0, reader.Consumed);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void TryRead_rejects_non_minimal_and_overlong_varints(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
            MlpVarint.TryRead(ref reader, MlpVarint.MaxLength32, out _);
        });
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }
}
