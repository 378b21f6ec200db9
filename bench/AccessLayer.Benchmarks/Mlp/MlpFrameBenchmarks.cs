using System.Buffers;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Mlp;

/// <summary>Framing cost of the hot frames: a REQUEST with a 300 B body and a small header block.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class MlpFrameBenchmarks
{
    private readonly byte[] _headerBlock = new byte[24];
    private readonly byte[] _body = new byte[300];
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private ReadOnlySequence<byte> _request;
    private ReadOnlySequence<byte> _mixed;
    private ReadOnlySequence<byte> _hello;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_body);
        var writer = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteRequest(writer, 1234, MlpFrameFlags.BodyZstd, _headerBlock, _body);
        _request = new ReadOnlySequence<byte>(writer.WrittenSpan.ToArray());

        writer.ResetWrittenCount();
        for (var i = 1; i <= 16; i++)
        {
            MlpFrameWriter.WriteRequest(writer, (uint)i, MlpFrameFlags.None, _headerBlock, _body);
            MlpFrameWriter.WritePush(writer, (ulong)i, MlpFrameFlags.None, _headerBlock, _body);
            MlpFrameWriter.WriteAck(writer, (ulong)i);
            MlpFrameWriter.WritePing(writer, [1, 2, 3, 4, 5, 6, 7, 8]);
        }

        _mixed = new ReadOnlySequence<byte>(writer.WrittenSpan.ToArray());

        writer.ResetWrittenCount();
        MlpFrameWriter.WriteHello(writer, new Hello
        {
            ProtocolVersion = 1,
            DeviceId = "android-0123456789abcdef",
            DeviceToken = new string('x', 140),
            Capabilities = new Capabilities { HpackTableSize = 4096, Zstd = true, DictionaryIds = { 40001 } },
            ClientTimeUnixMs = 1_712_000_000_000,
        });
        _hello = new ReadOnlySequence<byte>(writer.WrittenSpan.ToArray());
    }

    [Benchmark]
    public int WriteRequestFrame()
    {
        _output.ResetWrittenCount();
        MlpFrameWriter.WriteRequest(_output, 1234, MlpFrameFlags.BodyZstd, _headerBlock, _body);
        return _output.WrittenCount;
    }

    [Benchmark]
    public long ReadAndParseRequest()
    {
        var reader = new SequenceReader<byte>(_request);
        MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var frame);
        var request = MlpRequestFrame.Parse(frame);
        return request.StreamId + request.Body.Length;
    }

    /// <summary>64 frames (REQUEST, PUSH, ACK, PING x16) read and their payloads parsed.</summary>
    [Benchmark(OperationsPerInvoke = 64)]
    public long ReadMixedFrames()
    {
        long total = 0;
        var reader = new SequenceReader<byte>(_mixed);
        while (MlpFrameReader.TryRead(ref reader, MlpLimits.DefaultMaxFrameSize, out var frame))
        {
            total += frame.Type switch
            {
                MlpFrameType.Request => MlpRequestFrame.Parse(frame).Body.Length,
                MlpFrameType.Push => (long)MlpPushFrame.Parse(frame).Sequence,
                MlpFrameType.Ack => (long)MlpAckFrame.Parse(frame).Sequence,
                _ => MlpPingFrame.Parse(frame).Opaque.Length,
            };
        }

        return total;
    }

    [Benchmark]
    public int ReadAndParseHello()
    {
        var reader = new SequenceReader<byte>(_hello);
        MlpFrameReader.TryRead(ref reader, MlpLimits.MaxHelloFrameSize, out var frame);
        return MlpEnvelope.ParseHello(frame).DeviceToken.Length;
    }
}
