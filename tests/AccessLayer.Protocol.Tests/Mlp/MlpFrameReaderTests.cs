using System.Buffers;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Tests.Compression;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpFrameReaderTests
{
    [Fact]
    public void Reads_every_frame_type_in_order()
    {
        var data = MlpTestFrames.OneOfEach();

        var (frames, consumed) = MlpTestFrames.ReadAll(new ReadOnlySequence<byte>(data));

        Assert.Equal(data.Length, consumed);
        Assert.Equal(
            [MlpFrameType.Hello, MlpFrameType.Welcome, MlpFrameType.Request, MlpFrameType.Response, MlpFrameType.Push, MlpFrameType.Ack,
             MlpFrameType.Ping, MlpFrameType.Pong, MlpFrameType.Dict, MlpFrameType.GoAway, MlpFrameType.Error, MlpFrameType.Request, MlpFrameType.Ping],
            frames.Select(f => f.Type));
        Assert.Equal(MlpFrameFlags.BodyZstd | MlpFrameFlags.Idempotent, frames[2].Flags);
        Assert.Equal(MlpFrameFlags.Redelivered, frames[4].Flags);
        Assert.Empty(frames[^1].Payload);
    }

    [Fact]
    public void Split_at_every_byte_yields_the_same_frames()
    {
        var data = MlpTestFrames.OneOfEach();
        var expected = MlpTestFrames.ReadAll(new ReadOnlySequence<byte>(data)).Frames;

        for (var cut = 1; cut < data.Length; cut++)
        {
            var (frames, consumed) = MlpTestFrames.ReadAll(TestSequences.Split(data, cut));
            Assert.Equal(data.Length, consumed);
            Assert.Equal(expected.Count, frames.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Type, frames[i].Type);
                Assert.Equal(expected[i].Payload, frames[i].Payload);
            }
        }
    }

    [Fact]
    public void Payload_fields_split_across_segments_parse_the_same()
    {
        var data = MlpTestFrames.OneOfEach();

        static string Describe(ReadOnlySequence<byte> sequence)
        {
            var parts = new List<string>();
            var reader = new SequenceReader<byte>(sequence);
            while (MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var frame))
            {
                MlpTestFrames.ParsePayload(frame);
                parts.Add(frame.Type switch
                {
                    MlpFrameType.Request => $"req {MlpRequestFrame.Parse(frame).StreamId} {Convert.ToHexString(MlpRequestFrame.Parse(frame).HeaderBlock.ToArray())} {Convert.ToHexString(MlpRequestFrame.Parse(frame).Body.ToArray())}",
                    MlpFrameType.Response => $"res {MlpResponseFrame.Parse(frame).Status} {Convert.ToHexString(MlpResponseFrame.Parse(frame).Body.ToArray())}",
                    MlpFrameType.Push => $"push {MlpPushFrame.Parse(frame).Sequence} {Convert.ToHexString(MlpPushFrame.Parse(frame).Body.ToArray())}",
                    MlpFrameType.Ack => $"ack {MlpAckFrame.Parse(frame).Sequence}",
                    MlpFrameType.Hello => MlpEnvelope.ParseHello(frame).ToString(),
                    _ => frame.Type.ToString(),
                });
            }

            return string.Join("|", parts);
        }

        var expected = Describe(new ReadOnlySequence<byte>(data));
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(expected, Describe(TestSequences.Split(data, cut, Math.Min(cut + 1, data.Length - 1))));
    }

    [Fact]
    public void Byte_by_byte_arrival_resumes_where_it_stopped()
    {
        var data = MlpTestFrames.OneOfEach();
        var expected = MlpTestFrames.ReadAll(new ReadOnlySequence<byte>(data)).Frames;
        var frames = new List<(MlpFrameType Type, MlpFrameFlags Flags, byte[] Payload)>();
        long consumed = 0;

        // Like a pipe: each read sees everything received and not yet consumed.
        for (var received = 1; received <= data.Length; received++)
        {
            var (more, used) = MlpTestFrames.ReadAll(new ReadOnlySequence<byte>(data, (int)consumed, received - (int)consumed));
            frames.AddRange(more);
            consumed += used;
        }

        Assert.Equal(data.Length, consumed);
        Assert.Equal(expected.Select(f => f.Payload), frames.Select(f => f.Payload));
    }

    [Fact]
    public void Incomplete_frame_returns_false_and_leaves_the_reader_unmoved()
    {
        var data = MlpTestFrames.Build(w => MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.None, [0x82], new byte[300]));

        foreach (var length in new[] { 0, 1, 2, 3, data.Length - 1 })
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data, 0, length));
            Assert.False(MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out _));
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void Oversized_declared_length_is_rejected_from_the_header_alone()
    {
        // REQUEST declaring 200,000 bytes (varint C0 9A 0C), no payload present.
        byte[] header = [0x10, 0xC0, 0x9A, 0x0C];

        var error = Assert.Throws<MlpProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
            MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out _);
        });

        Assert.Equal(MlpErrorCode.FrameTooLarge, error.Code);
        Assert.True(error.IsConnectionError);
    }

    [Fact]
    public void Length_whose_continuation_already_exceeds_the_limit_is_rejected_before_the_varint_ends()
    {
        // Two bytes with continuation bits: the length is at least 2^14 > 1000.
        byte[] header = [0x10, 0x80, 0x80];

        var error = Assert.Throws<MlpProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
            MlpFrameReader.TryRead(ref reader, 1000, out _);
        });

        Assert.Equal(MlpErrorCode.FrameTooLarge, error.Code);
    }

    [Fact]
    public void Length_exactly_at_the_limit_is_accepted()
    {
        var data = MlpTestFrames.Build(w => MlpFrameWriter.Write(w, MlpFrameType.Request, MlpFrameFlags.None, new byte[1000]));
        Assert.Equal(1000, MlpTestFrames.ReadSingle(data, 1000).Payload.Length);
        Assert.Throws<MlpProtocolException>(() => MlpTestFrames.ReadSingle(data, 999));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x00 })]
    [InlineData(new byte[] { 0xC0, 0x00 })]
    [InlineData(new byte[] { 0xF5, 0x00 })]
    public void Reserved_frame_type_is_rejected(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpTestFrames.ReadSingle(data));
        Assert.Equal(MlpErrorCode.UnknownFrameType, error.Code);
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x80, 0x00 })]
    [InlineData(new byte[] { 0x50, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void Non_minimal_or_overlong_length_is_malformed(byte[] data)
    {
        var error = Assert.Throws<MlpProtocolException>(() => MlpTestFrames.ReadSingle(data, MlpLimits.AbsoluteMaxFrameSize));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }

    [Fact]
    public void Payload_is_a_slice_of_the_input_without_copying()
    {
        var data = MlpTestFrames.Build(w => MlpFrameWriter.Write(w, MlpFrameType.Push, MlpFrameFlags.None, [9, 8, 7]));
        var frame = MlpTestFrames.ReadSingle(data);

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frame.Payload.First, out var segment));
        Assert.Same(data, segment.Array);
    }

    [Fact]
    public void Reading_frames_allocates_nothing()
    {
        var data = MlpTestFrames.OneOfEach();
        var sequence = new ReadOnlySequence<byte>(data);

        static int Count(ReadOnlySequence<byte> sequence)
        {
            var n = 0;
            var reader = new SequenceReader<byte>(sequence);
            while (MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var frame))
            {
                if (frame.Type == MlpFrameType.Request)
                    n += (int)MlpRequestFrame.Parse(frame).StreamId;
                n++;
            }

            return n;
        }

        Count(sequence);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            Count(sequence);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Random_input_yields_frames_or_protocol_errors_only()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ReadEverything));
    }

    [Fact]
    public void Mutated_valid_input_yields_frames_or_protocol_errors_only()
    {
        var data = MlpTestFrames.OneOfEach();
        var mutations = Gen.ArrayOf(Gen.Choose(0, data.Length - 1).Zip(Gen.Choose(0, 255)));

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(mutations.ToArbitrary(), changes =>
        {
            var bad = (byte[])data.Clone();
            foreach (var (index, value) in changes)
                bad[index] = (byte)value;
            ReadEverything(bad);
            // Truncations of the mutated stream too.
            ReadEverything(bad[..(changes.Length % bad.Length)]);
        }));
    }

    [Fact]
    public void Huge_declared_lengths_never_make_the_reader_allocate()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Gen.Choose(1, int.MaxValue).ToArbitrary(), declared =>
        {
            var header = new byte[6];
            header[0] = 0x30;
            var n = 1 + MlpVarint.Write(header.AsSpan(1), (uint)declared);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header, 0, n));
                Assert.False(MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out _));
                Assert.True(declared > 0);
            }
            catch (MlpProtocolException e)
            {
                Assert.Contains(e.Code, new[] { MlpErrorCode.FrameTooLarge, MlpErrorCode.MalformedFrame });
                return;
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }));
    }

    private static void ReadEverything(byte[] bytes)
    {
        try
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            while (MlpFrameReader.TryRead(ref reader, 4096, out var frame))
            {
                Assert.True(frame.Payload.Length <= 4096);
                try
                {
                    MlpTestFrames.ParsePayload(frame);
                }
                catch (MlpProtocolException)
                {
                }
            }
        }
        catch (MlpProtocolException)
        {
        }
    }
}
