using System.Buffers;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Protocol.Tests.Mlp;

/// <summary>The byte vectors here are the worked examples of docs/protocol.md.</summary>
public sealed class MlpFrameWriterTests
{
    [Fact]
    public void WriteRequest_produces_the_documented_bytes()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.BodyZstd | MlpFrameFlags.Idempotent, [0x82], "hi"u8));
        Assert.Equal(Convert.FromHexString("1305010182" + "6869"), bytes);
    }

    [Fact]
    public void WriteResponse_produces_the_documented_bytes()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WriteResponse(w, 1, 200, MlpFrameFlags.None, [], "ok"u8));
        Assert.Equal(Convert.FromHexString("200601C801006F6B"), bytes);
    }

    [Fact]
    public void WritePush_produces_the_documented_bytes()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WritePush(w, 1, MlpFrameFlags.Redelivered, [], []));
        Assert.Equal(Convert.FromHexString("38020100"), bytes);
    }

    [Fact]
    public void WriteAck_produces_the_documented_bytes()
    {
        Assert.Equal(Convert.FromHexString("4002AC02"), MlpTestFrames.Build(w => MlpFrameWriter.WriteAck(w, 300)));
    }

    [Fact]
    public void WritePing_and_WritePong_produce_the_documented_bytes()
    {
        Assert.Equal(Convert.FromHexString("5000"), MlpTestFrames.Build(w => MlpFrameWriter.WritePing(w, [])));
        Assert.Equal(Convert.FromHexString("60080001020304050607"), MlpTestFrames.Build(w => MlpFrameWriter.WritePong(w, [0, 1, 2, 3, 4, 5, 6, 7])));
    }

    [Fact]
    public void WriteHello_starts_with_0x70()
    {
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.WriteHello(w, new Hello { ProtocolVersion = 1, DeviceId = "d" }));
        Assert.Equal(Convert.FromHexString("7005" + "0801" + "1A0164"), bytes);
    }

    [Fact]
    public void Large_payload_gets_a_multi_byte_length()
    {
        var body = new byte[70_000];
        var bytes = MlpTestFrames.Build(w => MlpFrameWriter.Write(w, MlpFrameType.Push, MlpFrameFlags.None, body));

        Assert.Equal(4, MlpFrameWriter.GetHeaderLength(body.Length));
        Assert.Equal(Convert.FromHexString("30F0A204"), bytes[..4]);
        Assert.Equal(70_000, MlpTestFrames.ReadSingle(bytes).Payload.Length);
    }

    [Fact]
    public void Writes_into_a_writer_that_hands_out_small_spans()
    {
        var writer = new SmallSpanWriter(7);
        var headerBlock = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        var body = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();

        MlpFrameWriter.WriteRequest(writer, 12345, MlpFrameFlags.None, headerBlock, body);
        var request = MlpRequestFrame.Parse(MlpTestFrames.ReadSingle(writer.ToArray()));

        Assert.Equal(12345u, request.StreamId);
        Assert.Equal(headerBlock, request.HeaderBlock.ToArray());
        Assert.Equal(body, request.Body.ToArray());
    }

    [Fact]
    public void Rejects_values_the_spec_forbids()
    {
        var w = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.WriteRequest(w, 0, MlpFrameFlags.None, [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.WriteRequest(w, MlpLimits.MaxStreamId + 1, MlpFrameFlags.None, [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.WriteResponse(w, 1, 99, MlpFrameFlags.None, [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.WriteAck(w, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.WritePing(w, new byte[9]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.Write(w, (MlpFrameType)0xC, MlpFrameFlags.None, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => MlpFrameWriter.Write(w, MlpFrameType.Ping, (MlpFrameFlags)0x10, []));
        Assert.Throws<ArgumentException>(() => MlpFrameWriter.WriteEnvelope(w, MlpFrameType.Request, new Hello()));
        Assert.Equal(0, w.WrittenCount);
    }

    [Fact]
    public void Writing_hot_path_frames_allocates_nothing()
    {
        var writer = new ArrayBufferWriter<byte>(4096);
        var headerBlock = new byte[20];
        var body = new byte[300];

        void Cycle()
        {
            writer.ResetWrittenCount();
            MlpFrameWriter.WriteRequest(writer, 7, MlpFrameFlags.BodyZstd, headerBlock, body);
            MlpFrameWriter.WriteResponse(writer, 7, 200, MlpFrameFlags.None, headerBlock, body);
            MlpFrameWriter.WritePush(writer, 99, MlpFrameFlags.None, headerBlock, body);
            MlpFrameWriter.WriteAck(writer, 99);
            MlpFrameWriter.WritePing(writer, [1, 2]);
        }

        Cycle();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Hands out at most N bytes per span, to prove the writer does not assume one big span.</summary>
    private sealed class SmallSpanWriter(int spanSize) : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public byte[] ToArray() => [.. _written];

        public void Advance(int count) => _written.AddRange(_current.AsSpan(0, count).ToArray());

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(spanSize, sizeHint)];

        public Span<byte> GetSpan(int sizeHint = 0) => _current = new byte[Math.Max(spanSize, sizeHint)];
    }
}
