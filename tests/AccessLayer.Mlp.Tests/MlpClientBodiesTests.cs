using System.Buffers;
using AccessLayer.Client.Dictionaries;
using AccessLayer.Client.Internal;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The SDK's managed zstd (ZstdSharp.Port) against the gateway's native libzstd binding, with the same
/// trained dictionary: frames made by either are read by the other, and bad frames are the protocol's errors.
/// </summary>
public sealed class MlpClientBodiesTests
{
    private const uint DictionaryId = 7001;

    private static MlpClientBodies Sdk()
    {
        var bodies = new MlpClientBodies(new InMemoryMlpDictionaryStore(), 1 << 20, 64);
        Assert.True(bodies.Add(DictionaryId, TestDictionaries.Get(DictionaryId)));
        return bodies;
    }

    private static (ZstdCodec Codec, ZstdDictionary Dictionary, ZstdDictionaryRegistry Registry) Native()
    {
        var registry = new ZstdDictionaryRegistry();
        var dictionary = ZstdDictionary.Create(TestDictionaries.Get(DictionaryId));
        Assert.True(registry.TryAdd(dictionary));
        return (new ZstdCodec(registry, new ZstdCodecOptions { MaxDecompressedSize = 1 << 20 }), dictionary, registry);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_body_compressed_by_the_SDK_is_read_by_the_native_codec(bool withDictionary)
    {
        using var sdk = Sdk();
        var (codec, _, registry) = Native();
        using var ownedRegistry = registry;
        using var ownedCodec = codec;
        var body = TestDictionaries.FeedBody();

        var (wire, compressed, dictionaryId) = sdk.Compress(body, withDictionary ? [DictionaryId] : []);

        Assert.True(compressed);
        Assert.Equal(withDictionary ? DictionaryId : 0u, dictionaryId);
        Assert.Equal(dictionaryId, ZstdFrame.GetDictionaryId(wire.Span));
        var output = new ArrayBufferWriter<byte>();
        codec.Decompress(wire.Span, output);
        Assert.Equal(body, output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_body_compressed_by_the_native_codec_is_read_by_the_SDK(bool withDictionary)
    {
        using var sdk = Sdk();
        var (codec, dictionary, registry) = Native();
        using var ownedRegistry = registry;
        using var ownedCodec = codec;
        var body = TestDictionaries.FeedBody(11);
        var buffer = new byte[ZstdFrame.GetMaxCompressedLength(body.Length)];
        var written = codec.Compress(body, buffer, withDictionary ? dictionary : null);

        var decoded = sdk.Decode(new ReadOnlySequence<byte>(buffer, 0, written), compressed: true, out var dictionaryId);

        Assert.Equal(body, decoded);
        Assert.Equal(withDictionary ? DictionaryId : 0u, dictionaryId);
    }

    [Fact]
    public void Bad_frames_are_the_protocols_errors()
    {
        using var sdk = Sdk();
        var (codec, _, registry) = Native();
        using var ownedRegistry = registry;
        using var ownedCodec = codec;
        var body = TestDictionaries.FeedBody();
        var (wire, _, _) = sdk.Compress(body, [DictionaryId]);

        using var stranger = new MlpClientBodies(new InMemoryMlpDictionaryStore(), 1 << 20, 64);
        Assert.Equal(ZstdErrorKind.UnknownDictionary, Assert.Throws<ZstdException>(() => stranger.Decode(new ReadOnlySequence<byte>(wire), true, out _)).Kind);
        using var small = new MlpClientBodies(new InMemoryMlpDictionaryStore(), 100, 64);
        var (plainFrame, _, _) = sdk.Compress(body, []);
        Assert.Equal(ZstdErrorKind.DecompressedSizeExceeded, Assert.Throws<ZstdException>(() => small.Decode(new ReadOnlySequence<byte>(plainFrame), true, out _)).Kind);
        Assert.Equal(ZstdErrorKind.CorruptedData, Assert.Throws<ZstdException>(() => sdk.Decode(new ReadOnlySequence<byte>([.. wire.Span, 0]), true, out _)).Kind);
        Assert.Equal(ZstdErrorKind.CorruptedData, Assert.Throws<ZstdException>(() => sdk.Decode(new ReadOnlySequence<byte>("not zstd"u8.ToArray()), true, out _)).Kind);
        Assert.False(sdk.Add(DictionaryId + 1, TestDictionaries.Get(DictionaryId)));
    }
}
