using System.Buffers;
using AccessLayer.Protocol.Compression;
using BenchmarkDotNet.Attributes;

namespace AccessLayer.Benchmarks.Compression;

/// <summary>One mobile-sized message through the pooled codec, with and without a trained dictionary.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ZstdBenchmarks
{
    private ZstdCodec _codec = null!;
    private ZstdDictionary _dictionary = null!;
    private byte[] _message = [];
    private byte[] _compressedWithDictionary = [];
    private byte[] _compressedPlain = [];
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);

    [Params(300, 2048)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloadSamples.Samples(seed: 1, count: 2000), 16 * 1024, dictionaryId: 40_001);
        var registry = new ZstdDictionaryRegistry();
        _dictionary = ZstdDictionary.Create(content);
        registry.TryAdd(_dictionary);
        _codec = new ZstdCodec(registry);
        _message = MobilePayloadSamples.Message(new Random(42), Size);
        _compressedWithDictionary = Compress(_dictionary);
        _compressedPlain = Compress(null);
        Console.WriteLine($"// {Size} B message: plain zstd {_compressedPlain.Length} B, with dictionary {_compressedWithDictionary.Length} B");
    }

    [GlobalCleanup]
    public void Cleanup() => _codec.Dispose();

    [Benchmark]
    public int CompressWithDictionary()
    {
        _output.ResetWrittenCount();
        return _codec.Compress(_message, _output, _dictionary);
    }

    [Benchmark]
    public int DecompressWithDictionary()
    {
        _output.ResetWrittenCount();
        return _codec.Decompress(_compressedWithDictionary, _output);
    }

    [Benchmark]
    public int CompressPlain()
    {
        _output.ResetWrittenCount();
        return _codec.Compress(_message, _output);
    }

    [Benchmark]
    public int DecompressPlain()
    {
        _output.ResetWrittenCount();
        return _codec.Decompress(_compressedPlain, _output);
    }

    private byte[] Compress(ZstdDictionary? dictionary)
    {
        var writer = new ArrayBufferWriter<byte>();
        _codec.Compress(_message, writer, dictionary);
        return writer.WrittenSpan.ToArray();
    }
}
