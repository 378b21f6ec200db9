using AccessLayer.Gateway.Mlp.Fleet;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Hpack;
using FsCheck;
using FsCheck.Xunit;

namespace AccessLayer.Mlp.Tests;

public sealed class MlpFleetCodecTests
{
    private static readonly DateTimeOffset Accepted = DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_123);

    private static MlpPushMessage Push(string text, string? userId = "user-é") =>
        new([new HeaderField(":service", "chat"), new HeaderField(":operation", "new"), new HeaderField("chat-id", "c1")], System.Text.Encoding.UTF8.GetBytes(text), Accepted, userId);

    private static void AssertSame(MlpPushMessage expected, MlpPushMessage actual)
    {
        Assert.Equal(expected.Headers, actual.Headers);
        Assert.Equal(expected.Body.ToArray(), actual.Body.ToArray());
        Assert.Equal(expected.AcceptedAt, actual.AcceptedAt);
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.Size, actual.Size);
    }

    [Fact]
    public void A_push_round_trips_with_headers_body_time_and_user()
    {
        foreach (var push in new[] { Push("hello"), Push(string.Empty, userId: null) })
            AssertSame(push, MlpFleetCodec.DecodePush(MlpFleetCodec.EncodePush(push)));
    }

    [Fact]
    public void A_session_round_trips_with_its_sequence_unacknowledged_and_waiting_pushes()
    {
        var session = new MlpSessionSnapshot("abc123", "u1", 41, [(40ul, Push("a")), (41ul, Push("b"))], [Push("c")]);

        var decoded = MlpFleetCodec.DecodeSession(MlpFleetCodec.EncodeSession(session));

        Assert.Equal(("abc123", "u1", 41ul), (decoded.SessionId, decoded.UserId, decoded.LastSequence));
        Assert.Equal([40ul, 41ul], decoded.Unacked.Select(u => u.Sequence));
        AssertSame(session.Unacked[1].Message, decoded.Unacked[1].Message);
        AssertSame(session.Pending[0], decoded.Pending[0]);
        Assert.Null(MlpFleetCodec.DecodeSession(MlpFleetCodec.EncodeSession(new MlpSessionSnapshot(null, "", 0, [], []))).SessionId);
    }

    [Fact]
    public void Every_truncation_and_trailing_byte_is_refused()
    {
        var bytes = MlpFleetCodec.EncodeSession(new MlpSessionSnapshot("s", "u", 1, [(1ul, Push("x"))], [Push("y")]));
        for (var length = 0; length < bytes.Length; length++)
            Assert.Throws<InvalidDataException>(() => MlpFleetCodec.DecodeSession(bytes[..length]));
        Assert.Throws<InvalidDataException>(() => MlpFleetCodec.DecodeSession([.. bytes, 0]));
        Assert.Throws<InvalidDataException>(() => MlpFleetCodec.DecodePush([2, .. MlpFleetCodec.EncodePush(Push("v"))[1..]]));
    }

    [Fact]
    public void A_huge_declared_count_is_refused_before_anything_is_allocated()
    {
        // Version, accepted time, no user, then a header count of 2^28 in five bytes with nothing after it.
        byte[] bytes = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x01];
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => MlpFleetCodec.DecodePush(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
    }

    [Property(MaxTest = 300)]
    public void Random_and_mutated_bytes_decode_or_throw_InvalidDataException(byte[] random, int position, byte value)
    {
        var valid = MlpFleetCodec.EncodeSession(new MlpSessionSnapshot("s", "u", 3, [(3ul, Push("z"))], []));
        valid[(position & int.MaxValue) % valid.Length] = value;
        foreach (var input in new[] { random ?? [], valid })
        {
            try
            {
                MlpFleetCodec.DecodeSession(input);
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
