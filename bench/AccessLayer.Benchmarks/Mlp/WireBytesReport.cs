using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Benchmarks.Mlp;

/// <summary>Bytes of one protocol variant over the measured calls.</summary>
public sealed record WireBytesResult(string Variant, int Calls, long RequestBytes, long ResponseBytes, long HandshakeBytes)
{
    public long TotalBytes => RequestBytes + ResponseBytes + HandshakeBytes;

    public double BytesPerCall => (double)TotalBytes / Calls;
}

/// <summary>
/// Bytes on the wire per call for the same seeded RPCs in five protocol variants, over one long-lived
/// connection each (TLS and TCP/IP overhead left out everywhere). The MLP dictionary is trained on a
/// separate seed, so no measured body was seen in training. HTTP/2 gets a warm HPACK context per
/// direction and may index the bearer token (as common HTTP/2 stacks do); MLP sends token, device id,
/// app version, locale and user agent once, in HELLO, which is counted.
/// </summary>
public static class WireBytesReport
{
    public const int TrainingSeed = 20260101;
    public const int MeasuredSeed = 20260102;
    public const uint DictionaryId = 40001;

    private const string Host = "api.example.com";
    private const string AppVersion = "8.12.0";
    private const string UserAgent = "ExampleBank/8.12.0 (Android 14; Pixel 8; okhttp/4.12.0)";
    private const string Locale = "zh-CN";
    private const string DeviceId = "6f1c2a9e-3b7d-4e21-9c55-0a8b7d3e1f42";
    private const string Date = "Thu, 01 Jan 2026 08:00:00 GMT";

    public static string MlpWithDictionary => "MLP (HPACK + protobuf + dictionary zstd)";

    public static string MlpWithoutDictionary => "MLP without dictionary (HPACK + protobuf + zstd)";

    public static string Http11Json => "HTTP/1.1 + JSON";

    public static string Http11JsonGzip => "HTTP/1.1 + JSON + gzip";

    public static string Http2JsonGzip => "HTTP/2 + JSON + gzip (HPACK)";

    /// <summary>Trains the dictionary from protobuf bodies of <paramref name="trainingCalls"/> calls (training seed).</summary>
    public static byte[] TrainDictionary(int trainingCalls = 4000, int size = 16 * 1024)
    {
        var samples = new List<ReadOnlyMemory<byte>>();
        foreach (var call in WireBytesWorkload.Generate(TrainingSeed, trainingCalls))
        {
            samples.Add(call.Request.ToProtobuf());
            samples.Add(call.Response.ToProtobuf());
        }

        return ZstdDictionaryTrainer.Train(samples, size, DictionaryId);
    }

    public static List<WireBytesResult> Measure(int calls = 1000, byte[]? dictionary = null)
    {
        dictionary ??= TrainDictionary();
        var workload = WireBytesWorkload.Generate(MeasuredSeed, calls);
        var traceRandom = new Random(MeasuredSeed);
        var traces = workload.Select(_ => Hex(traceRandom, 32)).ToList();
        var token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + Convert.ToBase64String(Encoding.ASCII.GetBytes("{\"sub\":\"1234567\",\"did\":\"" + DeviceId + "\",\"iat\":1767225600,\"exp\":1767830400,\"scope\":\"app\"}")).TrimEnd('=') + "." + Hex(new Random(7), 43);

        using var zstdDictionary = ZstdDictionary.Create(dictionary);
        using var codec = new ZstdCodec();
        return
        [
            Mlp(workload, traces, token, codec, zstdDictionary, MlpWithDictionary),
            Mlp(workload, traces, token, codec, null, MlpWithoutDictionary),
            Http11(workload, traces, token, gzip: false, Http11Json),
            Http11(workload, traces, token, gzip: true, Http11JsonGzip),
            Http2(workload, traces, token, Http2JsonGzip),
        ];
    }

    private static WireBytesResult Mlp(List<WireBytesWorkload.Call> workload, List<string> traces, string token, ZstdCodec codec, ZstdDictionary? dictionary, string name)
    {
        // One connection: HELLO and WELCOME once, then REQUEST/RESPONSE frames with a warm HPACK context each way.
        var hello = new Hello
        {
            ProtocolVersion = 1, MinProtocolVersion = 1, DeviceId = DeviceId, DeviceToken = token,
            Capabilities = new Capabilities { HpackTableSize = 4096, Zstd = true },
            ClientTimeUnixMs = 1_767_254_400_000, Platform = "android", AppVersion = AppVersion, NetworkType = "wifi",
        };
        if (dictionary is not null)
            hello.Capabilities.DictionaryIds.Add(dictionary.Id);
        var welcome = new Welcome
        {
            ProtocolVersion = 1, SessionId = "8c1d0f6e2b4a9d7e3f5a1c0b", ResumeTicket = ByteString.CopyFrom(new byte[120]), ResumeTicketLifetimeMs = 86_400_000,
            Limits = new Limits { MaxFrameSize = 131072, MaxBodySize = 1048576, HpackTableSize = 4096, MaxConcurrentStreams = 100, PushWindow = 64 },
            Heartbeat = new HeartbeatPolicy { IntervalMs = 60000, MinIntervalMs = 30000, MaxIntervalMs = 300000, ProbeStepMs = 30000, PongTimeoutMs = 10000, IdleTimeoutMs = 330000, ProbeSuccessCount = 3 },
            ServerTimeUnixMs = 1_767_254_400_000, DictionaryId = dictionary?.Id ?? 0, UserId = "1234567",
        };
        if (dictionary is not null)
            welcome.AcceptedDictionaryIds.Add(dictionary.Id);
        var handshake = new ArrayBufferWriter<byte>();
        MlpFrameWriter.WriteHello(handshake, hello);
        MlpFrameWriter.WriteWelcome(handshake, welcome);

        var requestEncoder = new HpackEncoder(new HpackEncoderOptions { DoNotIndexNames = ["trace-id"] });
        var responseEncoder = new HpackEncoder();
        var block = new ArrayBufferWriter<byte>(256);
        var frame = new ArrayBufferWriter<byte>(4096);
        long requestBytes = 0, responseBytes = 0;
        uint streamId = 0;
        for (var i = 0; i < workload.Count; i++)
        {
            var call = workload[i];
            streamId++;
            block.ResetWrittenCount();
            requestEncoder.Encode([new HeaderField(":service", call.Service), new HeaderField(":operation", call.Operation), new HeaderField("trace-id", traces[i])], block);
            var (body, compressed) = Compress(codec, call.Request.ToProtobuf(), dictionary);
            frame.ResetWrittenCount();
            MlpFrameWriter.WriteRequest(frame, streamId, compressed ? MlpFrameFlags.BodyZstd : MlpFrameFlags.None, block.WrittenSpan, body);
            requestBytes += frame.WrittenCount;

            block.ResetWrittenCount();
            responseEncoder.Encode(ReadOnlySpan<HeaderField>.Empty, block);
            (body, compressed) = Compress(codec, call.Response.ToProtobuf(), dictionary);
            frame.ResetWrittenCount();
            MlpFrameWriter.WriteResponse(frame, streamId, 200, compressed ? MlpFrameFlags.BodyZstd : MlpFrameFlags.None, block.WrittenSpan, body);
            responseBytes += frame.WrittenCount;
        }

        return new WireBytesResult(name, workload.Count, requestBytes, responseBytes, handshake.WrittenCount);
    }

    private static (byte[] Body, bool Compressed) Compress(ZstdCodec codec, byte[] body, ZstdDictionary? dictionary)
    {
        if (body.Length < 64)
            return (body, false);
        var buffer = new byte[ZstdFrame.GetMaxCompressedLength(body.Length)];
        var written = codec.Compress(body, buffer, dictionary);
        return written < body.Length ? (buffer[..written], true) : (body, false);
    }

    private static WireBytesResult Http11(List<WireBytesWorkload.Call> workload, List<string> traces, string token, bool gzip, string name)
    {
        long requestBytes = 0, responseBytes = 0;
        for (var i = 0; i < workload.Count; i++)
        {
            var call = workload[i];
            var (requestBody, requestGzip) = gzip ? Gzip(call.Request.ToJson()) : (call.Request.ToJson(), false);
            var request = new StringBuilder()
                .Append("POST ").Append(call.HttpPath).Append(" HTTP/1.1\r\n")
                .Append("Host: ").Append(Host).Append("\r\n")
                .Append("Authorization: Bearer ").Append(token).Append("\r\n")
                .Append("User-Agent: ").Append(UserAgent).Append("\r\n")
                .Append("X-Device-Id: ").Append(DeviceId).Append("\r\n")
                .Append("X-App-Version: ").Append(AppVersion).Append("\r\n")
                .Append("Accept-Language: ").Append(Locale).Append("\r\n")
                .Append("X-Trace-Id: ").Append(traces[i]).Append("\r\n")
                .Append("Accept: application/json\r\n")
                .Append(gzip ? "Accept-Encoding: gzip\r\n" : "")
                .Append("Content-Type: application/json\r\n")
                .Append(requestGzip ? "Content-Encoding: gzip\r\n" : "")
                .Append("Content-Length: ").Append(requestBody.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n\r\n");
            requestBytes += Encoding.ASCII.GetByteCount(request.ToString()) + requestBody.Length;

            var (responseBody, responseGzip) = gzip ? Gzip(call.Response.ToJson()) : (call.Response.ToJson(), false);
            var response = new StringBuilder()
                .Append("HTTP/1.1 200 OK\r\n")
                .Append("Date: ").Append(Date).Append("\r\n")
                .Append("Content-Type: application/json; charset=utf-8\r\n")
                .Append(responseGzip ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "")
                .Append("Content-Length: ").Append(responseBody.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n")
                .Append("X-Trace-Id: ").Append(traces[i]).Append("\r\n")
                .Append("Cache-Control: no-store\r\n\r\n");
            responseBytes += Encoding.ASCII.GetByteCount(response.ToString()) + responseBody.Length;
        }

        return new WireBytesResult(name, workload.Count, requestBytes, responseBytes, 0);
    }

    private static WireBytesResult Http2(List<WireBytesWorkload.Call> workload, List<string> traces, string token, string name)
    {
        const int FrameHeader = 9;
        // Warm contexts both ways; the token may be indexed (no never-indexed names), as common HTTP/2 client stacks do.
        var requestEncoder = new HpackEncoder(new HpackEncoderOptions { NeverIndexNames = [], DoNotIndexNames = ["x-trace-id", "content-length"] });
        var responseEncoder = new HpackEncoder(new HpackEncoderOptions { NeverIndexNames = [], DoNotIndexNames = ["x-trace-id", "content-length"] });
        var block = new ArrayBufferWriter<byte>(512);
        long requestBytes = 0, responseBytes = 0;
        for (var i = 0; i < workload.Count; i++)
        {
            var call = workload[i];
            var (requestBody, requestGzip) = Gzip(call.Request.ToJson());
            List<HeaderField> requestHeaders =
            [
                new(":method", "POST"), new(":scheme", "https"), new(":authority", Host), new(":path", call.HttpPath),
                new("authorization", "Bearer " + token), new("user-agent", UserAgent), new("x-device-id", DeviceId),
                new("x-app-version", AppVersion), new("accept-language", Locale), new("x-trace-id", traces[i]),
                new("accept", "application/json"), new("accept-encoding", "gzip"), new("content-type", "application/json"),
            ];
            if (requestGzip)
                requestHeaders.Add(new("content-encoding", "gzip"));
            requestHeaders.Add(new("content-length", requestBody.Length.ToString(CultureInfo.InvariantCulture)));
            block.ResetWrittenCount();
            requestEncoder.Encode(requestHeaders, block);
            requestBytes += FrameHeader + block.WrittenCount + FrameHeader + requestBody.Length;

            var (responseBody, responseGzip) = Gzip(call.Response.ToJson());
            List<HeaderField> responseHeaders = [new(":status", "200"), new("date", Date), new("content-type", "application/json; charset=utf-8")];
            if (responseGzip)
                responseHeaders.AddRange([new("content-encoding", "gzip"), new("vary", "Accept-Encoding")]);
            responseHeaders.AddRange([new("content-length", responseBody.Length.ToString(CultureInfo.InvariantCulture)), new("x-trace-id", traces[i]), new("cache-control", "no-store")]);
            block.ResetWrittenCount();
            responseEncoder.Encode(responseHeaders, block);
            responseBytes += FrameHeader + block.WrittenCount + FrameHeader + responseBody.Length;
        }

        return new WireBytesResult(name, workload.Count, requestBytes, responseBytes, 0);
    }

    private static (byte[] Body, bool Compressed) Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(body);
        return output.Length < body.Length ? (output.ToArray(), true) : (body, false);
    }

    private static string Hex(Random r, int length)
    {
        var bytes = new byte[(length + 1) / 2];
        r.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes)[..length];
    }

    /// <summary>The report as a Markdown table, MLP first, with each variant's size relative to MLP.</summary>
    public static string Render(IReadOnlyList<WireBytesResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var mlp = results[0].BytesPerCall;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{results[0].Calls} calls (seed {MeasuredSeed}; dictionary {DictionaryId} trained on seed {TrainingSeed})\n\n");
        sb.Append("| variant | bytes/call | request B/call | response B/call | handshake B (once) | × MLP |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var r in results)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Variant} | {r.BytesPerCall:F1} | {(double)r.RequestBytes / r.Calls:F1} | {(double)r.ResponseBytes / r.Calls:F1} | {r.HandshakeBytes} | {r.BytesPerCall / mlp:F2} |\n");
        }

        return sb.ToString();
    }
}
