using AccessLayer.Protocol.Compression;

namespace AccessLayer.Protocol.Tests.Compression;

/// <summary>One dictionary trained per test class: training takes a noticeable fraction of a second.</summary>
public sealed class TrainedDictionaryFixture : IDisposable
{
    public const uint DictionaryId = 40_001;

    public TrainedDictionaryFixture()
    {
        Content = ZstdDictionaryTrainer.Train(MobilePayloads.Samples(seed: 1, count: 2000, maxItems: 3), 16 * 1024, DictionaryId);
        Dictionary = ZstdDictionary.Create(Content);
    }

    public byte[] Content { get; }

    public ZstdDictionary Dictionary { get; }

    public void Dispose() => Dictionary.Dispose();
}
