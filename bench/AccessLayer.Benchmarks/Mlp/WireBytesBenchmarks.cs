using AccessLayer.Protocol.Compression;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Mlp;

/// <summary>
/// Prints the bytes-on-the-wire table once (GlobalSetup) and times how long the MLP variant's body work
/// takes per call: protobuf body + dictionary zstd, against JSON + gzip.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class WireBytesBenchmarks
{
    private List<WireBytesWorkload.Call> _calls = null!;
    private ZstdDictionary _dictionary = null!;
    private ZstdCodec _codec = null!;
    private byte[] _buffer = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var dictionary = WireBytesReport.TrainDictionary();
        Console.WriteLine(WireBytesReport.Render(WireBytesReport.Measure(1000, dictionary)));
        _dictionary = ZstdDictionary.Create(dictionary);
        _codec = new ZstdCodec();
        _calls = WireBytesWorkload.Generate(WireBytesReport.MeasuredSeed, 256);
        _buffer = new byte[64 * 1024];
    }

    [Benchmark(Baseline = true)]
    public int ProtobufWithDictionaryZstd()
    {
        var call = _calls[_next++ & 255];
        var body = call.Response.ToProtobuf();
        return _codec.Compress(body, _buffer, _dictionary);
    }

    [Benchmark]
    public long JsonWithGzip()
    {
        var call = _calls[_next++ & 255];
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(call.Response.ToJson());
        return output.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _codec.Dispose();
        _dictionary.Dispose();
    }
}
