using System.Text;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp.Fleet;

/// <summary>
/// Pushes and sessions as they travel between nodes and wait in Redis. A push:
/// <c>version(1)=1 | accepted_unix_ms(8) | user id (flag, string) | header count | (name, value)* | body</c>;
/// a session: <c>version(1)=1 | session id (flag, string) | user id | last sequence(8) | unacked count |
/// (sequence(8), push)* | pending count | push*</c>; strings and byte runs are 7-bit-length prefixed.
/// Every length and count is checked against what is left before anything is allocated; bad input
/// throws <see cref="InvalidDataException"/>.
/// </summary>
internal static class MlpFleetCodec
{
    private const byte Version = 1;
    private static readonly long MinUnixMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    public static byte[] EncodePush(MlpPushMessage push)
    {
        using var buffer = new MemoryStream(64 + push.Body.Length);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            WritePush(writer, push);
        }

        return buffer.ToArray();
    }

    public static MlpPushMessage DecodePush(byte[] bytes)
    {
        var reader = new Reader(bytes);
        reader.ExpectVersion();
        var push = reader.ReadPush();
        reader.ExpectEnd();
        return push;
    }

    public static byte[] EncodeSession(MlpSessionSnapshot session)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            WriteOptional(writer, session.SessionId);
            writer.Write(session.UserId);
            writer.Write(session.LastSequence);
            writer.Write7BitEncodedInt(session.Unacked.Count);
            foreach (var (sequence, message) in session.Unacked)
            {
                writer.Write(sequence);
                WritePush(writer, message);
            }

            writer.Write7BitEncodedInt(session.Pending.Count);
            foreach (var message in session.Pending)
                WritePush(writer, message);
        }

        return buffer.ToArray();
    }

    public static MlpSessionSnapshot DecodeSession(byte[] bytes)
    {
        var reader = new Reader(bytes);
        reader.ExpectVersion();
        var sessionId = reader.ReadOptionalString();
        var userId = reader.ReadString();
        var lastSequence = reader.ReadUInt64();
        var unacked = new List<(ulong, MlpPushMessage)>(reader.ReadCount(minItemBytes: 12));
        for (var i = unacked.Capacity; i > 0; i--)
            unacked.Add((reader.ReadUInt64(), reader.ReadPush()));
        var pending = new List<MlpPushMessage>(reader.ReadCount(minItemBytes: 12));
        for (var i = pending.Capacity; i > 0; i--)
            pending.Add(reader.ReadPush());
        reader.ExpectEnd();
        return new MlpSessionSnapshot(sessionId, userId, lastSequence, unacked, pending);
    }

    private static void WritePush(BinaryWriter writer, MlpPushMessage push)
    {
        writer.Write(push.AcceptedAt.ToUnixTimeMilliseconds());
        WriteOptional(writer, push.UserId);
        writer.Write7BitEncodedInt(push.Headers.Count);
        foreach (var header in push.Headers)
        {
            writer.Write(header.Name);
            writer.Write(header.Value);
        }

        writer.Write7BitEncodedInt(push.Body.Length);
        writer.Write(push.Body.Span);
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
            writer.Write(value);
    }

    /// <summary>A bounds-checked reader over one encoded value.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _offset;

        private readonly int Left => _bytes.Length - _offset;

        public void ExpectVersion()
        {
            var version = ReadByte();
            if (version != Version)
                throw new InvalidDataException($"Unknown MLP fleet encoding version {version}.");
        }

        public readonly void ExpectEnd()
        {
            if (Left != 0)
                throw new InvalidDataException($"{Left} bytes after the end of an MLP fleet value.");
        }

        public MlpPushMessage ReadPush()
        {
            var acceptedMs = ReadInt64();
            if (acceptedMs < MinUnixMs || acceptedMs > MaxUnixMs)
                throw new InvalidDataException($"Accepted time {acceptedMs} ms is out of range.");
            var accepted = DateTimeOffset.FromUnixTimeMilliseconds(acceptedMs);
            var userId = ReadOptionalString();
            var headers = new HeaderField[ReadCount(minItemBytes: 2)];
            for (var i = 0; i < headers.Length; i++)
                headers[i] = new HeaderField(ReadString(), ReadString());
            var body = Take(ReadCount(minItemBytes: 1)).ToArray();
            return new MlpPushMessage(headers, body, accepted, userId);
        }

        public string? ReadOptionalString() => ReadByte() switch
        {
            0 => null,
            1 => ReadString(),
            var flag => throw new InvalidDataException($"Bad presence flag {flag}."),
        };

        public string ReadString() => Encoding.UTF8.GetString(Take(ReadCount(minItemBytes: 1)));

        /// <summary>A 7-bit length or count, refused when that many items of at least <paramref name="minItemBytes"/> cannot be left.</summary>
        public int ReadCount(int minItemBytes)
        {
            var value = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (shift > 28)
                    throw new InvalidDataException("A length is longer than 5 bytes.");
                var b = ReadByte();
                value |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    break;
            }

            if (value < 0 || (long)value * minItemBytes > Left)
                throw new InvalidDataException($"A count of {value} exceeds the {Left} bytes left.");
            return value;
        }

        public ulong ReadUInt64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public long ReadInt64() => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        private byte ReadByte() => Take(1)[0];

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > Left)
                throw new InvalidDataException("The MLP fleet value is truncated.");
            var span = _bytes.Slice(_offset, count);
            _offset += count;
            return span;
        }
    }
}
