using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpRequestFrameTests
{
    [Fact]
    public void Parse_round_trips_stream_id_flags_header_block_and_body()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WriteRequest(w, 300, MlpFrameFlags.BodyZstd | MlpFrameFlags.OneWay, [1, 2, 3], [4, 5]));
        var request = MlpRequestFrame.Parse(MlpTestFrames.ReadSingle(bytes));

        Assert.Equal(300u, request.StreamId);
        Assert.True(request.IsBodyCompressed);
        Assert.True(request.IsOneWay);
        Assert.False(request.IsIdempotent);
        Assert.Equal(new byte[] { 1, 2, 3 }, request.HeaderBlock.ToArray());
        Assert.Equal(new byte[] { 4, 5 }, request.Body.ToArray());
    }

    [Fact]
    public void Parse_rejects_stream_id_zero_as_invalid_stream()
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpRequestFrame.Parse(MlpTestFrames.ReadSingle([0x10, 0x02, 0x00, 0x00])));
        Assert.Equal(MlpErrorCode.InvalidStream, error.Code);
    }

    [Fact]
    public void Parse_rejects_stream_id_above_2_pow_31()
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpRequestFrame.Parse(MlpTestFrames.ReadSingle([0x10, 0x06, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00])));
        Assert.Equal(MlpErrorCode.InvalidStream, error.Code);
    }

    [Theory]
    [InlineData(new byte[] { 0x10, 0x00 })]
    [InlineData(new byte[] { 0x10, 0x01, 0x01 })]
    [InlineData(new byte[] { 0x10, 0x03, 0x01, 0x05, 0xAA })]
    [InlineData(new byte[] { 0x10, 0x02, 0x81, 0x80 })]
    public void Parse_rejects_payloads_that_end_inside_a_field(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpRequestFrame.Parse(MlpTestFrames.ReadSingle(data)));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }

    [Fact]
    public void Parse_of_another_type_is_a_caller_bug()
    {
        Assert.Throws<ArgumentException>(() => MlpRequestFrame.Parse(MlpTestFrames.ReadSingle([0x50, 0x00])));
    }
}
