using AccessLayer.Benchmarks.Mlp;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>Dictionaries trained once per test run from the seeded mobile RPC workload (protobuf bodies).</summary>
internal static class TestDictionaries
{
    private static readonly Lazy<List<ReadOnlyMemory<byte>>> Samples = new(() =>
    {
        var samples = new List<ReadOnlyMemory<byte>>();
        foreach (var call in WireBytesWorkload.Generate(WireBytesReport.TrainingSeed, 1500))
        {
            samples.Add(call.Request.ToProtobuf());
            samples.Add(call.Response.ToProtobuf());
        }

        return samples;
    });

    private static readonly Dictionary<uint, byte[]> Trained = [];

    public static byte[] Get(uint id)
    {
        lock (Trained)
        {
            if (!Trained.TryGetValue(id, out var dictionary))
                Trained[id] = dictionary = ZstdDictionaryTrainer.Train(Samples.Value, 8 * 1024, id);
            return dictionary;
        }
    }

    /// <summary>A typical feed response body (protobuf) that the dictionaries compress well.</summary>
    public static byte[] FeedBody(int seed = 7) =>
        WireBytesWorkload.Generate(seed, 50).First(c => c.Service == "feed" && c.Response.ToProtobuf().Length > 600).Response.ToProtobuf();

    /// <summary>A folder holding the given dictionaries as <c>{id}.dict</c>; deleted on dispose.</summary>
    public sealed class Folder : IDisposable
    {
        public Folder(params uint[] ids)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlp-dicts-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
            foreach (var id in ids)
                Add(id);
        }

        public string Path { get; }

        public void Add(uint id) => File.WriteAllBytes(System.IO.Path.Combine(Path, id + ".dict"), Get(id));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
