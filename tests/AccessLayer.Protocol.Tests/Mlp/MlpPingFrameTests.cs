using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpPingFrameTests
{
    [Fact]
    public void Parse_reads_ping_and_pong_opaque_bytes()
    {
        var ping = MlpPingFrame.Parse(MlpTestFrames.ReadSingle([0x50, 0x02, 0xAB, 0xCD]));
        var pong = MlpPingFrame.Parse(MlpTestFrames.ReadSingle([0x60, 0x00]));

        Assert.False(ping.IsPong);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, ping.Opaque.ToArray());
        Assert.True(pong.IsPong);
        Assert.True(pong.Opaque.IsEmpty);
    }

    [Fact]
    public void Parse_rejects_more_than_8_bytes()
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpPingFrame.Parse(MlpTestFrames.ReadSingle([0x50, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }
}
