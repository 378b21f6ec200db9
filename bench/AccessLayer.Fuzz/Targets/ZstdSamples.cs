using System.Text;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Fuzz.Targets;

/// <summary>Bodies like an app's (JSON-ish API calls) and two dictionaries trained on them, made once per process.</summary>
internal static class ZstdSamples
{
    public const uint FirstDictionaryId = 40_001;
    public const uint SecondDictionaryId = 40_002;

    private static readonly string[] Operations = ["feed.list", "feed.like", "chat.send", "chat.sync", "profile.get", "cart.update"];

    public static readonly Lazy<(byte[] First, byte[] Second)> Dictionaries = new(() =>
    {
        var samples = Enumerable.Range(0, 600).Select(i => (ReadOnlyMemory<byte>)Json(i, 1 + (i % 4))).ToList();
        return (ZstdDictionaryTrainer.Train(samples, 4096, FirstDictionaryId), ZstdDictionaryTrainer.Train(samples[..300], 2048, SecondDictionaryId));
    });

    public static byte[] Json(int seed, int items)
    {
        var random = new FuzzRandom(0x2057D, seed);
        var sb = new StringBuilder(512);
        sb.Append("{\"v\":1,\"uid\":").Append(random.Next(100_000, 9_999_999))
          .Append(",\"op\":\"").Append(Operations[random.Next(Operations.Length)]).Append('"')
          .Append(",\"ts\":").Append(1_712_000_000_000L + random.Next(int.MaxValue))
          .Append(",\"items\":[");
        for (var i = 0; i < items; i++)
        {
            sb.Append(i > 0 ? "," : "").Append("{\"id\":").Append(random.Next(int.MaxValue))
              .Append(",\"likes\":").Append(random.Next(5000))
              .Append(",\"author\":{\"name\":\"user_").Append(random.Next(1000)).Append("\"}}");
        }

        return Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
    }
}
