using System.Buffers;
using AccessLayer.Protocol.Hpack;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Hpack;

/// <summary>
/// A mobile REQUEST header block (10 fields) on a warm connection: the encoder has indexed the stable
/// fields, the request id changes every call, authorization is never indexed. Target: 0 B per call.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class HpackBenchmarks
{
    private const int RequestIds = 64;

    private readonly HeaderField[][] _requests = new HeaderField[RequestIds][];
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private HpackEncoder _encoder = null!;
    private HpackDecoder _decoder = null!;
    private ReadOnlySequence<byte> _block;
    private ReadOnlySequence<byte> _segmentedBlock;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < RequestIds; i++)
        {
            _requests[i] =
            [
                new(":method", "POST"),
                new(":path", "/api/feed.FeedService/ListTimeline"),
                new("service", "feed"),
                new("op", "ListTimeline"),
                new("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl"),
                new("user-agent", "AccessLayerSDK/2.3.1 (Android 14; Pixel 8)"),
                new("accept-encoding", "gzip, deflate"),
                new("x-request-id", Guid.NewGuid().ToString()),
                new("content-type", "application/x-protobuf"),
                new("app-version", "8.12.0"),
            ];
        }

        _encoder = new HpackEncoder(new HpackEncoderOptions { DoNotIndexNames = ["x-request-id"] });
        _decoder = new HpackDecoder();
        for (var i = 0; i < 4; i++)
        {
            _output.ResetWrittenCount();
            _encoder.Encode(_requests[i], _output);
            var handler = new CountingHandler();
            _decoder.Decode(new ReadOnlySequence<byte>(_output.WrittenMemory), ref handler);
        }

        // A steady-state block: it changes no table, so decoding it again and again stays steady.
        var block = _output.WrittenSpan.ToArray();
        _block = new ReadOnlySequence<byte>(block);
        _segmentedBlock = ThreeSegments(block);
        Console.WriteLine($"// steady-state block: {block.Length} octets (first block of a connection: {FirstBlockLength()} octets)");
    }

    [Benchmark]
    public int Encode()
    {
        _output.ResetWrittenCount();
        _encoder.Encode(_requests[_next++ & (RequestIds - 1)], _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int Decode()
    {
        var handler = new CountingHandler();
        _decoder.Decode(_block, ref handler);
        return handler.Count;
    }

    [Benchmark]
    public int DecodeThreeSegments()
    {
        var handler = new CountingHandler();
        _decoder.Decode(_segmentedBlock, ref handler);
        return handler.Count;
    }

    private int FirstBlockLength()
    {
        var output = new ArrayBufferWriter<byte>();
        new HpackEncoder().Encode(_requests[0], output);
        return output.WrittenCount;
    }

    private static ReadOnlySequence<byte> ThreeSegments(byte[] block)
    {
        // Cuts inside the token and inside the request id: strings that must be reassembled.
        var first = new Segment(block.AsMemory(0, block.Length / 3), 0);
        var second = first.Append(block.AsMemory(block.Length / 3, block.Length / 3));
        var third = second.Append(block.AsMemory(2 * (block.Length / 3)));
        return new ReadOnlySequence<byte>(first, 0, third, third.Memory.Length);
    }

    private struct CountingHandler : IHpackHeaderHandler
    {
        public int Count;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count += name.Length + value.Length > 0 ? 1 : 0;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
