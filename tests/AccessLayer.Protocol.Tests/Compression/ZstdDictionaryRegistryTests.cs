using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Tests.Compression;

public sealed class ZstdDictionaryRegistryTests : IClassFixture<TrainedDictionaryFixture>
{
    private readonly TrainedDictionaryFixture _fixture;

    public ZstdDictionaryRegistryTests(TrainedDictionaryFixture fixture) => _fixture = fixture;

    [Fact]
    public void TryAdd_refuses_a_second_dictionary_with_the_same_id()
    {
        using var registry = new ZstdDictionaryRegistry();
        using var duplicate = ZstdDictionary.Create(_fixture.Content);

        Assert.True(registry.TryAdd(ZstdDictionary.Create(_fixture.Content)));
        Assert.False(registry.TryAdd(duplicate));
        Assert.Equal(1, registry.Count);
        Assert.Equal([TrainedDictionaryFixture.DictionaryId], registry.Ids);
    }

    [Fact]
    public void Get_of_an_unknown_id_is_a_typed_error()
    {
        using var registry = new ZstdDictionaryRegistry();

        var error = Assert.Throws<ZstdException>(() => registry.Get(77_777));
        Assert.Equal(ZstdErrorKind.UnknownDictionary, error.Kind);
        Assert.Equal(77_777u, error.DictionaryId);
        Assert.False(registry.TryGet(77_777, out _));
    }

    [Fact]
    public void TryRemove_hands_the_dictionary_back_to_the_caller()
    {
        using var registry = new ZstdDictionaryRegistry();
        registry.TryAdd(ZstdDictionary.Create(_fixture.Content));

        Assert.True(registry.TryRemove(TrainedDictionaryFixture.DictionaryId, out var removed));
        using (removed)
        {
            Assert.False(registry.Contains(TrainedDictionaryFixture.DictionaryId));
            Assert.Equal(TrainedDictionaryFixture.DictionaryId, removed.Id);
        }
    }
}
