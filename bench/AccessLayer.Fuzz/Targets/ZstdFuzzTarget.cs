using System.Buffers;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Fuzz.Targets;

/// <summary>
/// zstd bodies as the MLP gateway decompresses them (gateway/Mlp/MlpBodies.cs): one codec with a
/// dictionary registry (two trained dictionaries), <c>MaxDecompressedSize</c> = the default
/// <c>Mlp:MaxBodySize</c> (1 MiB), unknown content sizes allowed, output into a growing
/// <see cref="ArrayBufferWriter{T}"/>. Mode byte bit 0 set: into a fixed 64 KiB span instead (the other
/// overload). Frames with and without dictionaries, levels 1 to 19, empty to 900 KiB of content.
/// The output must never pass the limit. Documented error: <see cref="ZstdException"/>.
/// </summary>
public sealed class ZstdFuzzTarget : IFuzzTarget, IDisposable
{
    public const int MaxDecompressedSize = 1024 * 1024;

    private static readonly Lazy<IReadOnlyList<byte[]>> SharedCorpus = new(BuildCorpus);

    private readonly ZstdDictionaryRegistry _registry = new();
    private readonly ZstdCodec _codec;
    private readonly byte[] _fixed = new byte[64 * 1024];

    public ZstdFuzzTarget()
    {
        var (first, second) = ZstdSamples.Dictionaries.Value;
        _registry.TryAdd(ZstdDictionary.Create(first));
        _registry.TryAdd(ZstdDictionary.Create(second));
        _codec = new ZstdCodec(_registry, new ZstdCodecOptions { MaxDecompressedSize = MaxDecompressedSize, AllowUnknownContentSize = true, ContextPoolSize = 2 });
    }

    public string Name => "zstd";

    public IReadOnlyList<byte[]> Corpus => SharedCorpus.Value;

    public long MaxRetained { get; private set; }

    /// <summary>The limit, doubled: the growing writer may round its capacity up to the next doubling.</summary>
    public long RetainedBound => 2L * MaxDecompressedSize;

    public bool IsExpected(Exception exception) => exception is ZstdException;

    public void Run(in ReadOnlySequence<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var mode = input.FirstSpan[0];
        var frame = input.Slice(1);
        if (frame.IsSingleSegment)
        {
            ZstdFrame.GetDictionaryId(frame.FirstSpan);
            ZstdFrame.TryGetContentSize(frame.FirstSpan, out _);
        }

        if ((mode & 1) == 0)
        {
            // What MlpBodies does: the writer starts at four times the compressed size, within the limit.
            var output = new ArrayBufferWriter<byte>((int)Math.Min(Math.Max(frame.Length * 4, 256), MaxDecompressedSize));
            try
            {
                var written = _codec.Decompress(frame, output);
                Check(written, output.WrittenCount);
            }
            finally
            {
                MaxRetained = Math.Max(MaxRetained, output.Capacity);
            }
        }
        else
        {
            var source = frame.ToArray();
            var written = _codec.Decompress(source, _fixed);
            Check(written, written);
        }
    }

    public void Dispose()
    {
        _codec.Dispose();
        _registry.Dispose();
    }

    private static void Check(int returned, int written)
    {
        if (returned != written || written > MaxDecompressedSize)
        {
            throw new FuzzBoundException($"zstd returned {returned} and wrote {written} bytes; the limit is {MaxDecompressedSize}.");
        }
    }

    private static List<byte[]> BuildCorpus()
    {
        var (first, second) = ZstdSamples.Dictionaries.Value;
        using var registry = new ZstdDictionaryRegistry();
        var firstDictionary = ZstdDictionary.Create(first);
        var secondDictionary = ZstdDictionary.Create(second, 19);
        registry.TryAdd(firstDictionary);
        registry.TryAdd(secondDictionary);
        var corpus = new List<byte[]>();
        var contents = new List<byte[]>
        {
            Array.Empty<byte>(),
            ZstdSamples.Json(1, 1),
            ZstdSamples.Json(2, 4),
            ZstdSamples.Json(3, 60),
            Enumerable.Repeat((byte)'a', 900 * 1024).ToArray(),
            Enumerable.Range(0, 1024).Select(i => (byte)(i * 7919 >> 3)).ToArray(),
        };
        foreach (var level in new[] { 1, 3, 19 })
        {
            using var codec = new ZstdCodec(registry, new ZstdCodecOptions { CompressionLevel = level, MaxDecompressedSize = MaxDecompressedSize });
            foreach (var content in contents)
            {
                foreach (var dictionary in new[] { null, firstDictionary, secondDictionary })
                {
                    var output = new ArrayBufferWriter<byte>();
                    codec.Compress(content, output, dictionary);
                    corpus.Add([(byte)(corpus.Count & 1), .. output.WrittenSpan]);
                }
            }
        }

        return corpus;
    }
}
