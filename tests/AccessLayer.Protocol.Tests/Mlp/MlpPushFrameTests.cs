using System.Buffers;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpPushFrameTests
{
    [Fact]
    public void Parse_round_trips_a_64_bit_sequence()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WritePush(w, ulong.MaxValue, MlpFrameFlags.Redelivered | MlpFrameFlags.BodyZstd, [1], [2]));
        var push = MlpPushFrame.Parse(MlpTestFrames.ReadSingle(bytes));

        Assert.Equal(ulong.MaxValue, push.Sequence);
        Assert.True(push.IsRedelivered);
        Assert.True(push.IsBodyCompressed);
        Assert.Equal(new byte[] { 1 }, push.HeaderBlock.ToArray());
        Assert.Equal(new byte[] { 2 }, push.Body.ToArray());
    }

    [Fact]
    public void Parse_accepts_sequence_zero_as_unsequenced()
    {
        var push = MlpPushFrame.Parse(MlpTestFrames.ReadSingle([0x30, 0x02, 0x00, 0x00]));
        Assert.Equal(0ul, push.Sequence);
        Assert.True(push.Body.IsEmpty);
    }
}
