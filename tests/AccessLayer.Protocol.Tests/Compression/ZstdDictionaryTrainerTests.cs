using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Tests.Compression;

public sealed class ZstdDictionaryTrainerTests
{
    [Fact]
    public void Train_writes_the_requested_id_into_the_dictionary_header()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 3, count: 500, maxItems: 2), 4096, dictionaryId: 123_456);

        Assert.InRange(content.Length, 256, 4096);
        Assert.Equal(123_456u, ZstdDictionary.GetId(content));
        using var dictionary = ZstdDictionary.Create(content);
        Assert.Equal(123_456u, dictionary.Id);
    }

    [Fact]
    public void Train_without_an_id_lets_zdict_pick_one_in_the_private_range()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 4, count: 500, maxItems: 2), 4096);

        Assert.InRange(ZstdDictionary.GetId(content), ZstdDictionaryTrainer.MinPrivateDictionaryId, ZstdDictionaryTrainer.MaxDictionaryId);
    }

    [Fact]
    public void Train_with_too_few_samples_is_a_typed_error()
    {
        var error = Assert.Throws<ZstdException>(() => ZstdDictionaryTrainer.Train([new byte[] { 1, 2, 3 }, new byte[] { 4, 5 }], 4096));
        Assert.Equal(ZstdErrorKind.TrainingFailed, error.Kind);
    }

    [Fact]
    public void Train_with_no_samples_is_a_typed_error()
    {
        var error = Assert.Throws<ZstdException>(() => ZstdDictionaryTrainer.Train([], 4096));
        Assert.Equal(ZstdErrorKind.TrainingFailed, error.Kind);
    }

    [Fact]
    public void SetId_rejects_bytes_that_are_not_a_dictionary()
    {
        var error = Assert.Throws<ZstdException>(() => ZstdDictionaryTrainer.SetId(new byte[16], 40_000));
        Assert.Equal(ZstdErrorKind.InvalidDictionary, error.Kind);
    }

    [Fact]
    public void SetId_rejects_ids_outside_the_allowed_range()
    {
        var content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 5, count: 300, maxItems: 1), 1024);
        Assert.Throws<ArgumentOutOfRangeException>(() => ZstdDictionaryTrainer.SetId(content, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ZstdDictionaryTrainer.SetId(content, 0x8000_0000));
    }
}
