using System.Text;

namespace AccessLayer.Protocol.Tests.Compression;

/// <summary>
/// Generates the kind of small messages a mobile app exchanges: JSON-ish API calls and
/// protobuf-ish records with a fixed schema, varying ids, counters and timestamps.
/// </summary>
internal static class MobilePayloads
{
    private static readonly string[] Operations = ["feed.list", "feed.like", "chat.send", "chat.sync", "profile.get", "notify.ack", "search.query", "cart.update"];
    private static readonly string[] Networks = ["wifi", "4g", "5g", "3g"];
    private static readonly string[] Locales = ["zh-CN", "en-US", "ja-JP", "de-DE"];
    private static readonly string[] ItemTypes = ["post", "video", "ad", "story"];

    public static byte[] Json(Random random, int items)
    {
        var sb = new StringBuilder(512);
        sb.Append("{\"v\":1,\"uid\":").Append(random.Next(100_000, 9_999_999))
          .Append(",\"did\":\"android-").Append(random.Next().ToString("x8")).Append('"')
          .Append(",\"op\":\"").Append(Operations[random.Next(Operations.Length)]).Append('"')
          .Append(",\"ts\":").Append(1_712_000_000_000L + random.Next())
          .Append(",\"net\":\"").Append(Networks[random.Next(Networks.Length)]).Append('"')
          .Append(",\"loc\":\"").Append(Locales[random.Next(Locales.Length)]).Append('"')
          .Append(",\"items\":[");
        for (var i = 0; i < items; i++)
        {
            if (i > 0)
                sb.Append(',');
            sb.Append("{\"id\":").Append(random.Next())
              .Append(",\"type\":\"").Append(ItemTypes[random.Next(ItemTypes.Length)]).Append('"')
              .Append(",\"likes\":").Append(random.Next(0, 5000))
              .Append(",\"author\":{\"uid\":").Append(random.Next(100_000, 9_999_999)).Append(",\"name\":\"user_").Append(random.Next(1000)).Append("\"}}");
        }

        sb.Append("]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static byte[] Protobufish(Random random, int items)
    {
        var buffer = new List<byte>(512);
        Varint(buffer, 0x08);
        Varint(buffer, (ulong)random.Next(100_000, 9_999_999));
        Text(buffer, 0x12, "android-" + random.Next().ToString("x8"));
        Text(buffer, 0x1A, Operations[random.Next(Operations.Length)]);
        Varint(buffer, 0x20);
        Varint(buffer, 1_712_000_000_000UL + (ulong)random.Next());
        for (var i = 0; i < items; i++)
        {
            var item = new List<byte>();
            Varint(item, 0x08);
            Varint(item, (ulong)random.Next());
            Text(item, 0x12, ItemTypes[random.Next(ItemTypes.Length)]);
            Varint(item, 0x18);
            Varint(item, (ulong)random.Next(0, 5000));
            Text(item, 0x22, "https://cdn.example.com/img/" + random.Next(100_000).ToString("d6") + ".webp");
            buffer.Add(0x2A);
            Varint(buffer, (ulong)item.Count);
            buffer.AddRange(item);
        }

        return [.. buffer];
    }

    /// <summary>Alternating JSON-ish and protobuf-ish messages of 1..maxItems items.</summary>
    public static List<ReadOnlyMemory<byte>> Samples(int seed, int count, int maxItems)
    {
        var random = new Random(seed);
        var samples = new List<ReadOnlyMemory<byte>>(count);
        for (var i = 0; i < count; i++)
        {
            var items = random.Next(1, maxItems + 1);
            samples.Add(i % 2 == 0 ? Json(random, items) : Protobufish(random, items));
        }

        return samples;
    }

    private static void Text(List<byte> buffer, byte tag, string value)
    {
        buffer.Add(tag);
        var bytes = Encoding.UTF8.GetBytes(value);
        Varint(buffer, (ulong)bytes.Length);
        buffer.AddRange(bytes);
    }

    private static void Varint(List<byte> buffer, ulong value)
    {
        while (value >= 0x80)
        {
            buffer.Add((byte)(value | 0x80));
            value >>= 7;
        }

        buffer.Add((byte)value);
    }
}
