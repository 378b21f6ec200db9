using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Tests.Compression;

public sealed class ZstdDictionaryTests
{
    [Fact]
    public void Create_rejects_raw_content_without_a_dictionary_id()
    {
        var error = Assert.Throws<ZstdException>(() => ZstdDictionary.Create("just some text that is not a dictionary"u8));
        Assert.Equal(ZstdErrorKind.InvalidDictionary, error.Kind);
    }

    [Fact]
    public void Create_rejects_a_header_with_corrupted_entropy_tables()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 6, count: 300, maxItems: 1), 2048, 50_000);
        // Keep magic and id, destroy the entropy tables that follow.
        content.AsSpan(8, 64).Fill(0xFF);

        var error = Assert.Throws<ZstdException>(() => ZstdDictionary.Create(content));
        Assert.Equal(ZstdErrorKind.InvalidDictionary, error.Kind);
    }

    [Fact]
    public void Content_is_a_copy_of_the_dictionary_bytes()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 7, count: 300, maxItems: 1), 2048, 50_001);
        using var dictionary = ZstdDictionary.Create(content, compressionLevel: 5);
        content[100] ^= 0xFF;

        Assert.Equal(50_001u, dictionary.Id);
        Assert.Equal(5, dictionary.CompressionLevel);
        Assert.NotEqual(content[100], dictionary.Content.Span[100]);
    }
}
