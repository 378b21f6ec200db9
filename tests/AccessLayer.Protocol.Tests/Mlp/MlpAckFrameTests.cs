using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpAckFrameTests
{
    [Fact]
    public void Parse_reads_the_cumulative_sequence()
    {
        Assert.Equal(300ul, MlpAckFrame.Parse(MlpTestFrames.ReadSingle([0x40, 0x02, 0xAC, 0x02])).Sequence);
    }

    [Theory]
    [InlineData(new byte[] { 0x40, 0x00 })]
    [InlineData(new byte[] { 0x40, 0x01, 0x00 })]
    [InlineData(new byte[] { 0x40, 0x02, 0x05, 0x00 })]
    [InlineData(new byte[] { 0x40, 0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 0x40, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 })]
    public void Parse_rejects_anything_but_one_nonzero_varint(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpAckFrame.Parse(MlpTestFrames.ReadSingle(data)));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }
}
