using System.Text;

namespace AccessLayer.Benchmarks.Compression;

/// <summary>JSON-ish mobile API payloads with varying ids, the traffic a trained dictionary is for.</summary>
internal static class MobilePayloadSamples
{
    private static readonly string[] Operations = ["feed.list", "feed.like", "chat.send", "chat.sync", "profile.get", "notify.ack"];
    private static readonly string[] ItemTypes = ["post", "video", "ad", "story"];

    public static byte[] Message(Random random, int size)
    {
        var sb = new StringBuilder(size + 256);
        sb.Append("{\"v\":1,\"uid\":").Append(random.Next(100_000, 9_999_999))
          .Append(",\"did\":\"android-").Append(random.Next().ToString("x8"))
          .Append("\",\"op\":\"").Append(Operations[random.Next(Operations.Length)])
          .Append("\",\"ts\":").Append(1_712_000_000_000L + random.Next())
          .Append(",\"net\":\"wifi\",\"loc\":\"zh-CN\",\"items\":[");
        while (sb.Length < size)
        {
            sb.Append("{\"id\":").Append(random.Next())
              .Append(",\"type\":\"").Append(ItemTypes[random.Next(ItemTypes.Length)])
              .Append("\",\"likes\":").Append(random.Next(0, 5000))
              .Append(",\"author\":{\"uid\":").Append(random.Next(100_000, 9_999_999))
              .Append(",\"name\":\"user_").Append(random.Next(1000)).Append("\"}},");
        }

        return Encoding.UTF8.GetBytes(sb.ToString())[..size];
    }

    public static List<ReadOnlyMemory<byte>> Samples(int seed, int count)
    {
        var random = new Random(seed);
        var samples = new List<ReadOnlyMemory<byte>>(count);
        for (var i = 0; i < count; i++)
            samples.Add(Message(random, random.Next(150, 2500)));
        return samples;
    }
}
