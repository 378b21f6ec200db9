using AccessLayer.Protocol.Compression;
using BenchmarkDotNet.Attributes;
using ZstdSharp;

namespace AccessLayer.Benchmarks.Compression;

/// <summary>
/// The gateway's native libzstd binding (<see cref="ZstdCodec"/>) against managed ZstdSharp.Port (the SDK's)
/// on one mobile-sized message, both with the same trained dictionary and level 3, into a reused buffer.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ZstdBindingBenchmarks
{
    private ZstdCodec _native = null!;
    private ZstdDictionary _dictionary = null!;
    private Compressor _compressor = null!;
    private Decompressor _decompressor = null!;
    private byte[] _message = [];
    private byte[] _compressed = [];
    private readonly byte[] _buffer = new byte[64 * 1024];

    [Params(300, 2048)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloadSamples.Samples(seed: 1, count: 2000), 16 * 1024, dictionaryId: 40_001);
        var registry = new ZstdDictionaryRegistry();
        _dictionary = ZstdDictionary.Create(content);
        registry.TryAdd(_dictionary);
        _native = new ZstdCodec(registry);
        _compressor = new Compressor(ZstdDictionary.DefaultCompressionLevel);
        _compressor.LoadDictionary(content);
        _decompressor = new Decompressor();
        _decompressor.LoadDictionary(content);
        _message = MobilePayloadSamples.Message(new Random(42), Size);
        var written = _native.Compress(_message, _buffer, _dictionary);
        _compressed = _buffer.AsSpan(0, written).ToArray();
        var managed = _compressor.Wrap(_message, _buffer);
        Console.WriteLine($"// {Size} B message with the dictionary: native {written} B, managed {managed} B");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _native.Dispose();
        _compressor.Dispose();
        _decompressor.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int NativeCompress() => _native.Compress(_message, _buffer, _dictionary);

    [Benchmark]
    public int ManagedCompress() => _compressor.Wrap(_message, _buffer);

    [Benchmark]
    public int NativeDecompress() => _native.Decompress(_compressed, _buffer);

    [Benchmark]
    public int ManagedDecompress() => _decompressor.Unwrap(_compressed, _buffer);
}
