using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Fuzz.Targets;

/// <summary>Valid MLP streams: HELLOs (anonymous, token, resume ticket), requests with shared HPACK context and zstd bodies, acks, pings, dicts; and the server's side.</summary>
internal static class MlpCorpus
{
    public static IReadOnlyList<byte[]> Build()
    {
        var corpus = new List<byte[]>();
        var hellos = Hellos().ToList();
        var uplinks = Uplinks();
        var downlinks = Downlinks();
        foreach (var hello in hellos)
        {
            corpus.Add([MlpFuzzTarget.ModeHandshake, .. hello]);
            corpus.Add([MlpFuzzTarget.ModeHandshake, .. hello, .. uplinks.SelectMany(f => f)]);
        }

        corpus.AddRange(uplinks.Select(f => (byte[])[MlpFuzzTarget.ModeWelcomed, .. f]));
        corpus.Add([MlpFuzzTarget.ModeWelcomed, .. uplinks.SelectMany(f => f)]);
        corpus.AddRange(downlinks.Select(f => (byte[])[MlpFuzzTarget.ModeClient, .. f]));
        corpus.Add([MlpFuzzTarget.ModeClient, .. downlinks.SelectMany(f => f)]);
        return corpus;
    }

    /// <summary>Frames for MLP inside WebSocket messages (the WebSocket target's corpus).</summary>
    public static IReadOnlyList<byte[]> ClientFrames() => [.. Hellos().Take(2), .. Uplinks()];

    private static byte[] Frame(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    private static IEnumerable<byte[]> Hellos()
    {
        var caps = new Capabilities { HpackTableSize = 8192, MaxFrameSize = 65536, MaxBodySize = 1 << 20, Zstd = true };
        caps.DictionaryIds.Add(ZstdSamples.FirstDictionaryId);
        yield return Frame(w => MlpFrameWriter.WriteHello(w, new Hello { ProtocolVersion = 1, DeviceId = "device-1", Platform = "android", AppVersion = "1.2.3", NetworkType = "wifi" }));
        var token = MlpDeviceToken.Create(
            new DeviceTokenPayload { DeviceId = "device-2", UserId = "user-2", ExpiresAtUnixS = 4_000_000_000, IssuedAtUnixS = 1_700_000_000 },
            Encoding.UTF8.GetBytes(MlpFuzzTarget.TokenSecret));
        yield return Frame(w => MlpFrameWriter.WriteHello(w, new Hello { ProtocolVersion = 1, MinProtocolVersion = 1, DeviceId = "device-2", DeviceToken = token, Capabilities = caps, LastPushSequence = 17, ClientTimeUnixMs = 1_712_000_000_000 }));
        var ticket = SealedTicket("device-3", "user-3", "session-3");
        yield return Frame(w => MlpFrameWriter.WriteHello(w, new Hello { ProtocolVersion = 1, DeviceId = "device-3", ResumeTicket = ByteString.CopyFrom(ticket), ZoneCookie = ByteString.CopyFromUtf8("zone-a") }));
    }

    /// <summary>
    /// A resume ticket as <c>MlpResumeTicketProtector</c> seals it (version 1, nonce, AES-256-GCM under
    /// SHA-256 of the secret), but with a fixed nonce and expiry, so the corpus (and every input made from it)
    /// is the same in every process: the protector's own random nonce would make replays differ.
    /// </summary>
    private static byte[] SealedTicket(string deviceId, string userId, string sessionId)
    {
        var plain = new List<byte>();
        var expires = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(expires, new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        plain.AddRange(expires);
        foreach (var field in new[] { deviceId, userId, sessionId })
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            plain.Add((byte)bytes.Length);
            plain.AddRange(bytes);
        }

        var key = SHA256.HashData(Encoding.UTF8.GetBytes("accesslayer-mlp-ticket\0" + MlpFuzzTarget.TicketSecret));
        var sealedTicket = new byte[1 + 12 + plain.Count + 16];
        sealedTicket[0] = 1;
        "fuzz-nonce12"u8.CopyTo(sealedTicket.AsSpan(1, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedTicket.AsSpan(1, 12), plain.ToArray(), sealedTicket.AsSpan(13, plain.Count), sealedTicket.AsSpan(13 + plain.Count, 16), sealedTicket.AsSpan(0, 1));
        return sealedTicket;
    }

    private static List<byte[]> Uplinks()
    {
        var encoder = new HpackEncoder();
        var frames = new List<byte[]>();
        using var registry = new ZstdDictionaryRegistry();
        var dictionary = ZstdDictionary.Create(ZstdSamples.Dictionaries.Value.First);
        registry.TryAdd(dictionary);
        using var codec = new ZstdCodec(registry);
        for (var i = 0; i < 4; i++)
        {
            var block = new ArrayBufferWriter<byte>();
            encoder.Encode(HeaderSamples.Lists[i % 3], block);
            var body = ZstdSamples.Json(i, 1 + i);
            var compressed = new ArrayBufferWriter<byte>();
            codec.Compress(body, compressed, i % 2 == 0 ? dictionary : null);
            var flags = i switch { 0 => MlpFrameFlags.BodyZstd, 1 => MlpFrameFlags.BodyZstd | MlpFrameFlags.Idempotent, 2 => MlpFrameFlags.OneWay, _ => MlpFrameFlags.None };
            var payload = (flags & MlpFrameFlags.BodyZstd) != 0 ? compressed.WrittenSpan.ToArray() : body;
            frames.Add(Frame(w => MlpFrameWriter.WriteRequest(w, (uint)(2 * i + 1), flags, block.WrittenSpan, payload)));
        }

        frames.Add(Frame(w => MlpFrameWriter.WriteAck(w, 17)));
        frames.Add(Frame(w => MlpFrameWriter.WritePing(w, [1, 2, 3, 4, 5, 6, 7, 8])));
        frames.Add(Frame(w => MlpFrameWriter.WritePong(w, [])));
        frames.Add(Frame(w => MlpFrameWriter.WriteDict(w, new Dict { Fetch = new DictFetch { Id = ZstdSamples.FirstDictionaryId } })));
        frames.Add(Frame(w => MlpFrameWriter.WriteGoAway(w, new GoAway { Code = MlpErrorCode.NoError, Message = "bye", LastStreamId = 7 })));
        return frames;
    }

    private static List<byte[]> Downlinks()
    {
        var encoder = new HpackEncoder();
        var frames = new List<byte[]>();
        var welcome = new Welcome
        {
            ProtocolVersion = 1,
            SessionId = "session-1",
            ResumeTicket = ByteString.CopyFrom(new byte[64]),
            Limits = new Limits { MaxFrameSize = 131072, MaxBodySize = 1 << 20, HpackTableSize = 4096, MaxConcurrentStreams = 100, PushWindow = 64 },
            Heartbeat = new HeartbeatPolicy { IntervalMs = 30000, MinIntervalMs = 10000, MaxIntervalMs = 300000 },
            DictionaryId = ZstdSamples.FirstDictionaryId,
            UserId = "user-1",
        };
        frames.Add(Frame(w => MlpFrameWriter.WriteWelcome(w, welcome)));
        for (var i = 0; i < 3; i++)
        {
            var block = new ArrayBufferWriter<byte>();
            encoder.Encode(HeaderSamples.Lists[3 + i], block);
            var body = ZstdSamples.Json(10 + i, 2);
            frames.Add(Frame(w => MlpFrameWriter.WriteResponse(w, (uint)(2 * i + 1), 200 + i, MlpFrameFlags.None, block.WrittenSpan, body)));
            frames.Add(Frame(w => MlpFrameWriter.WritePush(w, (ulong)(100 + i), i == 1 ? MlpFrameFlags.Redelivered : MlpFrameFlags.None, block.WrittenSpan, body)));
        }

        frames.Add(Frame(w => MlpFrameWriter.WriteDict(w, new Dict { Offer = new DictOffer { Id = ZstdSamples.FirstDictionaryId, Size = 4096 } })));
        frames.Add(Frame(w => MlpFrameWriter.WriteError(w, new Error { Code = MlpErrorCode.UnknownDictionary, Message = "no", StreamId = 3, DictionaryId = 5 })));
        frames.Add(Frame(w => MlpFrameWriter.WriteGoAway(w, new GoAway { Code = MlpErrorCode.NoError, RetryAfterMs = 100 })));
        return frames;
    }
}
