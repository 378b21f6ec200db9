using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpResponseFrameTests
{
    [Fact]
    public void Parse_round_trips_status_and_fields()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WriteResponse(w, 9, 503, MlpFrameFlags.BodyZstd, [7], [8, 9]));
        var response = MlpResponseFrame.Parse(MlpTestFrames.ReadSingle(bytes));

        Assert.Equal(9u, response.StreamId);
        Assert.Equal(503, response.Status);
        Assert.True(response.IsBodyCompressed);
        Assert.Equal(new byte[] { 7 }, response.HeaderBlock.ToArray());
        Assert.Equal(new byte[] { 8, 9 }, response.Body.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x20, 0x03, 0x01, 0x63, 0x00 })]
    [InlineData(new byte[] { 0x20, 0x04, 0x01, 0xE8, 0x07, 0x00 })]
    [InlineData(new byte[] { 0x20, 0x05, 0x01, 0x80, 0x80, 0x01, 0x00 })]
    public void Parse_rejects_status_outside_100_to_999(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpResponseFrame.Parse(MlpTestFrames.ReadSingle(data)));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }
}
