using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;

namespace AccessLayer.Benchmarks.Mlp;

/// <summary>
/// A seeded generator of typical mobile RPCs (login, bill list, payment, feed, profile) for the
/// bytes-on-the-wire comparison. Each message is a small field tree rendered both as protobuf (field
/// numbers) and as JSON (field names), so every protocol variant carries the same information.
/// Bodies are 200 B – 4 KB as JSON. The same seed always gives the same calls.
/// </summary>
public static class WireBytesWorkload
{
    private static readonly string[] Words =
    [
        "coffee", "weekend", "trip", "photo", "family", "sunset", "new", "today", "great", "friends", "dinner", "city",
        "music", "running", "morning", "happy", "birthday", "beach", "travel", "work", "project", "launch", "team", "love",
        "cat", "dog", "book", "reading", "movie", "night", "rain", "spring", "garden", "recipe", "noodles", "market",
    ];

    private static readonly string[] Merchants = ["Starbucks", "Metro Transit", "FreshMart", "Cinema City", "Didi", "Meituan", "Apple Store", "Uniqlo", "KFC", "Pharmacy 24h"];
    private static readonly string[] Categories = ["food", "transport", "shopping", "entertainment", "health", "utilities"];
    private static readonly string[] Cities = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", "Singapore"];

    /// <summary>One RPC: where it goes and both messages.</summary>
    public sealed record Call(string Service, string Operation, string HttpPath, Message Request, Message Response);

    /// <summary>A message: fields in number order.</summary>
    public sealed class Message : List<Field>
    {
        public byte[] ToProtobuf()
        {
            var buffer = new ArrayBufferWriter<byte>(512);
            var output = new CodedOutputStream(new BufferStream(buffer), leaveOpen: true);
            WriteProtobuf(output);
            output.Flush();
            return buffer.WrittenSpan.ToArray();
        }

        private void WriteProtobuf(CodedOutputStream output)
        {
            foreach (var field in this)
            {
                foreach (var value in field.Values)
                {
                    switch (value)
                    {
                        case string s:
                            output.WriteTag(field.Number, WireFormat.WireType.LengthDelimited);
                            output.WriteString(s);
                            break;
                        case long l:
                            output.WriteTag(field.Number, WireFormat.WireType.Varint);
                            output.WriteInt64(l);
                            break;
                        case bool b:
                            output.WriteTag(field.Number, WireFormat.WireType.Varint);
                            output.WriteBool(b);
                            break;
                        case Message m:
                            output.WriteTag(field.Number, WireFormat.WireType.LengthDelimited);
                            output.WriteBytes(ByteString.CopyFrom(m.ToProtobuf()));
                            break;
                    }
                }
            }
        }

        public byte[] ToJson()
        {
            var buffer = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(buffer))
                WriteJson(writer);
            return buffer.WrittenSpan.ToArray();
        }

        private void WriteJson(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            foreach (var field in this)
            {
                writer.WritePropertyName(field.Name);
                if (field.Repeated)
                    writer.WriteStartArray();
                foreach (var value in field.Values)
                {
                    switch (value)
                    {
                        case string s: writer.WriteStringValue(s); break;
                        case long l: writer.WriteNumberValue(l); break;
                        case bool b: writer.WriteBooleanValue(b); break;
                        case Message m: m.WriteJson(writer); break;
                    }
                }

                if (field.Repeated)
                    writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }
    }

    public sealed record Field(int Number, string Name, IReadOnlyList<object> Values, bool Repeated = false);

    /// <summary><paramref name="count"/> calls in a realistic mix (feed and bills dominate, login is rare).</summary>
    public static List<Call> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var calls = new List<Call>(count);
        for (var i = 0; i < count; i++)
        {
            var pick = random.Next(100);
            calls.Add(pick switch
            {
                < 5 => Login(random),
                < 35 => BillList(random),
                < 50 => Payment(random),
                < 85 => Feed(random),
                _ => Profile(random),
            });
        }

        return calls;
    }

    private static Call Login(Random r)
    {
        var request = M(F(1, "username", "user" + r.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture) + "@example.com"),
            F(2, "passwordHash", Hex(r, 32)), F(3, "deviceModel", "Pixel 8"), F(4, "osVersion", "Android 14"), F(5, "pushToken", Hex(r, 64)));
        var response = M(F(1, "userId", (long)r.Next(1_000_000, 99_999_999)), F(2, "sessionToken", Hex(r, 48)), F(3, "expiresAt", 1_767_225_600L + r.Next(86_400)),
            F(4, "profile", M(F(1, "nickname", Name(r)), F(2, "avatarUrl", Avatar(r)), F(3, "level", (long)r.Next(1, 60)), F(4, "vip", r.Next(4) == 0))));
        return new Call("account", "login", "/api/v1/account/login", request, response);
    }

    private static Call BillList(Random r)
    {
        var request = M(F(1, "month", "2026-" + r.Next(1, 13).ToString("00", CultureInfo.InvariantCulture)), F(2, "page", (long)r.Next(1, 5)), F(3, "pageSize", 20L));
        var bills = new List<object>();
        for (int i = 0, n = r.Next(2, 14); i < n; i++)
        {
            bills.Add(M(F(1, "billId", "B" + r.NextInt64(10_000_000_000, 99_999_999_999).ToString(CultureInfo.InvariantCulture)),
                F(2, "merchant", Merchants[r.Next(Merchants.Length)]), F(3, "amountCents", (long)r.Next(100, 200_000)), F(4, "currency", "CNY"),
                F(5, "category", Categories[r.Next(Categories.Length)]), F(6, "status", r.Next(10) == 0 ? "PENDING" : "SETTLED"),
                F(7, "createdAt", 1_767_225_600L + r.Next(2_592_000)), F(8, "memo", r.Next(3) == 0 ? Sentence(r, 2, 5) : "")));
        }

        var response = M(new Field(1, "bills", bills, Repeated: true), F(2, "total", (long)r.Next(20, 300)), F(3, "hasMore", r.Next(2) == 0));
        return new Call("bills", "list", "/api/v1/bills/list", request, response);
    }

    private static Call Payment(Random r)
    {
        var request = M(F(1, "orderId", "O" + Hex(r, 12)), F(2, "amountCents", (long)r.Next(100, 500_000)), F(3, "currency", "CNY"),
            F(4, "payeeId", (long)r.Next(1_000_000, 99_999_999)), F(5, "method", r.Next(2) == 0 ? "BALANCE" : "CARD"), F(6, "memo", Sentence(r, 1, 6)),
            F(7, "idempotencyKey", Hex(r, 16)));
        var response = M(F(1, "paymentId", "P" + Hex(r, 14)), F(2, "status", "SUCCEEDED"), F(3, "balanceCents", (long)r.Next(0, 10_000_000)),
            F(4, "createdAt", 1_767_225_600L + r.Next(2_592_000)), F(5, "receiptUrl", "https://pay.example.com/r/" + Hex(r, 10)));
        return new Call("payments", "pay", "/api/v1/payments/pay", request, response);
    }

    private static Call Feed(Random r)
    {
        var request = M(F(1, "cursor", r.Next(3) == 0 ? "" : Hex(r, 16)), F(2, "count", 10L), F(3, "channel", r.Next(2) == 0 ? "following" : "recommended"));
        var items = new List<object>();
        for (int i = 0, n = r.Next(1, 8); i < n; i++)
        {
            var media = new List<object>();
            for (int j = 0, k = r.Next(0, 4); j < k; j++)
                media.Add("https://cdn.example.com/img/" + Hex(r, 16) + ".jpg");
            items.Add(M(F(1, "id", r.NextInt64(1_000_000_000, 9_999_999_999)),
                F(2, "author", M(F(1, "uid", (long)r.Next(1_000_000, 99_999_999)), F(2, "name", Name(r)), F(3, "avatarUrl", Avatar(r)))),
                F(3, "text", Sentence(r, 4, 30)), F(4, "likes", (long)r.Next(0, 5000)), F(5, "comments", (long)r.Next(0, 300)),
                F(6, "createdAt", 1_767_225_600L + r.Next(2_592_000)), new Field(7, "mediaUrls", media, Repeated: true)));
        }

        var response = M(new Field(1, "items", items, Repeated: true), F(2, "nextCursor", Hex(r, 16)));
        return new Call("feed", "list", "/api/v1/feed/list", request, response);
    }

    private static Call Profile(Random r)
    {
        var request = M(F(1, "userId", (long)r.Next(1_000_000, 99_999_999)));
        var tags = new List<object>();
        for (int i = 0, n = r.Next(0, 6); i < n; i++)
            tags.Add(Words[r.Next(Words.Length)]);
        var response = M(F(1, "userId", (long)r.Next(1_000_000, 99_999_999)), F(2, "nickname", Name(r)), F(3, "avatarUrl", Avatar(r)),
            F(4, "bio", Sentence(r, 3, 20)), F(5, "followers", (long)r.Next(0, 100_000)), F(6, "following", (long)r.Next(0, 2000)),
            F(7, "city", Cities[r.Next(Cities.Length)]), F(8, "birthday", "19" + r.Next(70, 100).ToString(CultureInfo.InvariantCulture) + "-0" + r.Next(1, 10).ToString(CultureInfo.InvariantCulture) + "-1" + r.Next(0, 10).ToString(CultureInfo.InvariantCulture)),
            new Field(9, "tags", tags, Repeated: true));
        return new Call("profile", "get", "/api/v1/profile/get", request, response);
    }

    private static Message M(params Field[] fields)
    {
        var message = new Message();
        message.AddRange(fields);
        return message;
    }

    private static Field F(int number, string name, object value) => new(number, name, [value]);

    private static string Hex(Random r, int length)
    {
        var bytes = new byte[(length + 1) / 2];
        r.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..length];
    }

    private static string Name(Random r) => Words[r.Next(Words.Length)] + "_" + Words[r.Next(Words.Length)] + r.Next(100).ToString(CultureInfo.InvariantCulture);

    private static string Avatar(Random r) => "https://cdn.example.com/avatar/" + Hex(r, 12) + ".png";

    private static string Sentence(Random r, int min, int max)
    {
        var sb = new StringBuilder();
        for (int i = 0, n = r.Next(min, max + 1); i < n; i++)
            sb.Append(i == 0 ? "" : " ").Append(Words[r.Next(Words.Length)]);
        return sb.ToString();
    }

    /// <summary>A write-only stream over an <see cref="IBufferWriter{T}"/>, for CodedOutputStream.</summary>
    private sealed class BufferStream(IBufferWriter<byte> writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => writer.Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(buffer);
    }
}
