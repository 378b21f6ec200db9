using System.Buffers;
using System.Buffers.Binary;
using AccessLayer.SessionGrains.Forwarding;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>
/// A forward link's hello and frames: whole whatever the split, lengths refused from their header, and any bytes
/// end in a frame, a wait for more, or a <see cref="FleetCodecException"/>.
/// </summary>
public sealed class ForwardFramesTests
{
    [Fact]
    public void A_hello_reads_back_its_cluster_id_whatever_the_split()
    {
        var hello = ForwardFrames.EncodeHello("fleet-é");
        for (var cut = 0; cut < hello.Length; cut++)
        {
            var part = new ReadOnlySequence<byte>(hello, 0, cut);
            Assert.False(ForwardFrames.TryReadHello(ref part, out _));
        }

        var whole = new ReadOnlySequence<byte>([.. hello, 9, 9]);
        Assert.True(ForwardFrames.TryReadHello(ref whole, out var clusterId));
        Assert.Equal("fleet-é", clusterId);
        Assert.Equal([9, 9], whole.ToArray());
    }

    [Fact]
    public void Bytes_that_are_not_a_hello_are_refused_from_the_first_byte()
    {
        var http = new ReadOnlySequence<byte>("G"u8.ToArray());
        Assert.Throws<FleetCodecException>(() => ForwardFrames.TryReadHello(ref http, out _));
    }

    [Fact]
    public void A_hello_whose_cluster_id_is_over_the_limit_is_refused_from_its_length()
    {
        var head = new byte[6];
        "ALF1"u8.CopyTo(head);
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(4), ForwardFrames.MaxClusterIdBytes + 1);
        var buffer = new ReadOnlySequence<byte>(head);
        Assert.Throws<FleetCodecException>(() => ForwardFrames.TryReadHello(ref buffer, out _));
    }

    [Fact]
    public void Frames_read_whole_and_in_order_whatever_the_split()
    {
        byte[][] batches = [[1, 2, 3], [], [.. Enumerable.Range(0, 300).Select(i => (byte)i)]];
        var stream = batches.SelectMany(Frame).ToArray();
        for (var cut = 0; cut <= stream.Length; cut++)
        {
            var read = new List<byte[]>();
            var first = new ReadOnlySequence<byte>(stream, 0, cut);
            ReadAll(ref first, read);
            var rest = new ReadOnlySequence<byte>([.. first.ToArray(), .. stream.AsSpan(cut)]);
            ReadAll(ref rest, read);
            Assert.Equal(0, rest.Length);
            Assert.Equal(batches, read);
        }
    }

    [Fact]
    public void A_frame_says_how_many_bytes_it_needs_once_its_header_is_whole()
    {
        var buffer = new ReadOnlySequence<byte>(Frame(new byte[10])[..6]);
        Assert.False(ForwardFrames.TryReadFrame(ref buffer, out _, out var needed));
        Assert.Equal(14, needed);
    }

    [Fact]
    public void A_frame_over_the_limit_is_refused_from_its_header_alone()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, ForwardFrames.MaxFrameBytes + 1u);
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Throws<FleetCodecException>(() => ForwardFrames.TryReadFrame(ref buffer, out _, out _));
    }

    [Fact]
    public void Any_bytes_after_a_hello_end_in_frames_a_wait_or_a_codec_error()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(ArbMap.Default.GeneratorFor<byte[]>().ToArbitrary(), bytes =>
        {
            var buffer = new ReadOnlySequence<byte>([.. ForwardFrames.EncodeHello("c"), .. bytes]);
            try
            {
                if (ForwardFrames.TryReadHello(ref buffer, out _))
                {
                    ReadAll(ref buffer, []);
                }
            }
            catch (FleetCodecException)
            {
            }
        }));
    }

    private static void ReadAll(ref ReadOnlySequence<byte> buffer, List<byte[]> read)
    {
        while (ForwardFrames.TryReadFrame(ref buffer, out var batch, out var needed))
        {
            read.Add(batch.ToArray());
            Assert.True(needed >= ForwardFrames.HeaderSize);
        }
    }

    private static byte[] Frame(byte[] batch)
    {
        var frame = new byte[ForwardFrames.HeaderSize + batch.Length];
        batch.CopyTo(frame, ForwardFrames.HeaderSize);
        ForwardFrames.WriteHeader(frame);
        return frame;
    }
}
