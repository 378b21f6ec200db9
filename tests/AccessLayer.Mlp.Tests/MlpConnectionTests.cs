using System.Buffers;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests;

/// <summary>The gateway's MLP connection against raw bytes: spec errors get GOAWAY (connection) or ERROR (stream), never a crash.</summary>
public sealed class MlpConnectionTests
{
    private static readonly HeaderField[] EchoHeaders = [new(":service", "echo"), new(":operation", "say")];

    private static async Task<(MlpTestGateway Gateway, RawMlpConnection Raw)> HandshakenAsync(string device = "raw-dev", params string[] settings)
    {
        var gateway = await MlpTestGateway.StartAsync(settings);
        var raw = await gateway.OpenRawAsync();
        await raw.HandshakeAsync(device, gateway.TokenFor(device));
        return (gateway, raw);
    }

    [Fact]
    public async Task A_secondary_link_carries_requests_beside_the_session_link_without_taking_the_session_over()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var primary = await gateway.OpenRawAsync();
        var welcome = await primary.HandshakeAsync("dual-dev", gateway.TokenFor("dual-dev"));

        // A second HELLO of the device, resuming with the ticket and marked secondary (the SDK's link for hedges).
        await using var secondary = await gateway.OpenRawAsync();
        var second = await secondary.SecondaryHandshakeAsync("dual-dev", welcome);
        Assert.Equal(welcome.SessionId, second.SessionId);
        Assert.True(second.ResumeTicket.IsEmpty);

        await secondary.SendRequestAsync(1, EchoHeaders, new byte[] { 7 });
        Assert.Equal(MlpFrameType.Response, (await secondary.ReceiveAsync()).Type);

        // The session stayed with the first link (without the flag the second HELLO takes it over, GOAWAY SESSION_TAKEN_OVER):
        // a push goes there.
        await gateway.PushAsync("""{"deviceId":"dual-dev","service":"chat","operation":"message.new","payloadText":"p1"}""");
        Assert.Equal(MlpFrameType.Push, (await primary.ReceiveAsync(TimeSpan.FromSeconds(10))).Type);

        // The secondary link carries no pushes (the next frame it gets is this GOAWAY), so an ACK on it is a protocol error.
        await secondary.SendAsync(w => MlpFrameWriter.WriteAck(w, 1));
        await secondary.ExpectGoAwayAndCloseAsync(MlpErrorCode.UnexpectedFrame);
        await primary.SendRequestAsync(1, EchoHeaders, new byte[] { 8 });
        Assert.Equal(MlpFrameType.Response, (await primary.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_first_frame_other_than_HELLO_gets_GOAWAY_UNEXPECTED_FRAME()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        await raw.SendAsync(new byte[] { 0x50, 0x00 });

        var goAway = await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.UnexpectedFrame);
        Assert.Equal(0u, goAway.LastStreamId);
    }

    [Fact]
    public async Task An_oversized_HELLO_is_refused_from_its_header_alone()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        // HELLO declaring 20000 bytes (over the fixed 16384 HELLO limit); no payload follows.
        await raw.SendAsync(new byte[] { 0x70, 0xA0, 0x9C, 0x01 });

        await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.FrameTooLarge);
    }

    [Fact]
    public async Task An_oversized_frame_after_the_handshake_is_refused_before_its_payload_arrives()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            // The spec's example: a REQUEST declaring 200000 bytes, refused from these 4 bytes.
            await raw.SendAsync(new byte[] { 0x10, 0xC0, 0x9A, 0x0C });
            await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.FrameTooLarge);
        }
    }

    [Fact]
    public async Task A_reserved_frame_type_is_UNKNOWN_FRAME_TYPE()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendAsync(new byte[] { 0xC0, 0x00 });
            await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.UnknownFrameType);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x10, 0x03, 0x01, 0x09, 0x82 })] // header block length 9 runs past a 3-byte payload
    [InlineData(new byte[] { 0x10, 0x01, 0x81 })] // payload ends inside the stream id varint
    [InlineData(new byte[] { 0x40, 0x02, 0x80, 0x00 })] // ACK with a non-minimal varint
    [InlineData(new byte[] { 0x50, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9 })] // PING over 8 bytes
    [InlineData(new byte[] { 0x90, 0x02, 0xFF, 0xFF })] // DICT that is not protobuf
    public async Task Malformed_frames_are_MALFORMED_FRAME(byte[] frame)
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendAsync(frame);
            await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.MalformedFrame);
        }
    }

    [Fact]
    public async Task A_stream_id_that_does_not_increase_is_INVALID_STREAM_and_GOAWAY_names_the_last_one()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendRequestAsync(5, EchoHeaders, new byte[] { 1 });
            Assert.Equal(MlpFrameType.Response, (await raw.ReceiveAsync()).Type);
            await raw.SendRequestAsync(5, EchoHeaders, new byte[] { 2 });

            var goAway = await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.InvalidStream);
            Assert.Equal(5u, goAway.LastStreamId);
        }
    }

    [Fact]
    public async Task An_HPACK_table_size_update_above_the_limit_is_HEADER_COMPRESSION_ERROR()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            // Dynamic table size update to 1 MiB (RFC 7541 §6.3: 001xxxxx, 5-bit prefix) then :method GET.
            var block = new ArrayBufferWriter<byte>();
            block.Write(new byte[] { 0x3F, 0xE1, 0xFF, 0x3F, 0x82 });
            await raw.SendAsync(w => MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.None, block.WrittenSpan, default));
            await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.HeaderCompressionError);
        }
    }

    [Fact]
    public async Task A_huge_header_list_is_HEADER_COMPRESSION_ERROR()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            // 24 fields of ~1 KB each: ~25 KB decoded against the 16 KiB list limit, in a 25 KB frame that fits max_frame_size.
            var headers = EchoHeaders.Concat(Enumerable.Range(0, 24).Select(i => new HeaderField("x-bomb-" + i, new string('z', 1000)))).ToArray();
            var encoder = new HpackEncoder(new HpackEncoderOptions { Huffman = HpackHuffmanPolicy.Never, MaxIndexedFieldSize = 0 });
            var block = new ArrayBufferWriter<byte>();
            encoder.Encode(headers, block);
            await raw.SendAsync(w => MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.None, block.WrittenSpan, default));
            await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.HeaderCompressionError);
        }
    }

    [Fact]
    public async Task A_body_naming_an_unknown_dictionary_is_a_stream_error_and_the_connection_survives()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            using var dictionary = ZstdDictionary.Create(TestDictionaries.Get(49999));
            using var codec = new ZstdCodec();
            var body = TestDictionaries.FeedBody();
            var compressed = new byte[ZstdFrame.GetMaxCompressedLength(body.Length)];
            var length = codec.Compress(body, compressed, dictionary);
            await raw.SendRequestAsync(1, EchoHeaders, compressed.AsMemory(0, length), MlpFrameFlags.BodyZstd);

            var frame = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Error, frame.Type);
            var error = Error.Parser.ParseFrom(frame.Payload);
            Assert.Equal(MlpErrorCode.UnknownDictionary, error.Code);
            Assert.Equal(1u, error.StreamId);
            Assert.Equal(49999u, error.DictionaryId);

            await raw.SendRequestAsync(2, EchoHeaders, new byte[] { 42 });
            var response = MlpResponseFrame.Parse(new MlpFrame(MlpFrameType.Response, 0, new ReadOnlySequence<byte>((await raw.ReceiveAsync()).Payload)));
            Assert.Equal(2u, response.StreamId);
            Assert.Equal(200, response.Status);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00, 0x01, 0x02 })] // a truncated zstd frame
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })] // not zstd at all
    public async Task An_undecodable_zstd_body_is_the_stream_error_COMPRESSION_ERROR(byte[] body)
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendRequestAsync(1, EchoHeaders, body, MlpFrameFlags.BodyZstd);
            var frame = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Error, frame.Type);
            Assert.Equal(MlpErrorCode.CompressionError, Error.Parser.ParseFrom(frame.Payload).Code);
        }
    }

    [Fact]
    public async Task A_zstd_bomb_is_BODY_TOO_LARGE_from_its_declared_size()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            using var codec = new ZstdCodec(new ZstdCodecOptions { MaxDecompressedSize = 8 * 1024 * 1024 });
            var zeros = new byte[4 * 1024 * 1024];
            var compressed = new byte[ZstdFrame.GetMaxCompressedLength(zeros.Length)];
            var length = codec.Compress(zeros, compressed);
            await raw.SendRequestAsync(1, EchoHeaders, compressed.AsMemory(0, length), MlpFrameFlags.BodyZstd);

            var frame = await raw.ReceiveAsync();
            Assert.Equal(MlpErrorCode.BodyTooLarge, Error.Parser.ParseFrom(frame.Payload).Code);
        }
    }

    [Fact]
    public async Task A_client_that_pipelines_refused_requests_and_never_reads_is_bounded_then_closed_as_a_slow_consumer()
    {
        // Each request lacks :operation: a stream ERROR (an envelope) per request, the connection stays up.
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:MaxOutboundQueue=16", "--Mlp:IdleTimeoutSeconds=86400"]);
        await using var raw = await gateway.OpenRawAsync(receiveBufferSize: 4096);
        await raw.HandshakeAsync("flooder", gateway.TokenFor("flooder"));
        HeaderField[] refused = [new(":service", "echo")];
        var block = new System.Buffers.ArrayBufferWriter<byte>();
        uint stream = 1;
        var sending = Task.Run(async () =>
        {
            try
            {
                // Up to 200,000 requests, far past what the socket buffers hold, never reading a byte.
                for (var batch = 0; batch < 400; batch++)
                {
                    await raw.SendAsync(w =>
                    {
                        for (var i = 0; i < 500; i++)
                        {
                            block.ResetWrittenCount();
                            raw.Encoder.Encode(refused, block);
                            MlpFrameWriter.WriteRequest(w, stream++, MlpFrameFlags.None, block.WrittenSpan, ReadOnlySpan<byte>.Empty);
                        }
                    });
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The gateway gave up on us (or the test closed the socket once it had).
            }
        });

        // The fake clock lets the close's bounded wait for the (never read) GOAWAY run out.
        await Eventually.TrueAsync(() =>
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(1));
            return !gateway.Connections.All.Any();
        }, "the flooder was not closed: its writer queue grows without bound");
        await raw.DisposeAsync();
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(":service")]
    [InlineData(":operation")]
    public async Task A_request_without_its_pseudo_headers_is_the_stream_error_PROTOCOL_ERROR(string missing)
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendRequestAsync(1, EchoHeaders.Where(h => h.Name != missing).ToArray(), new byte[] { 1 });
            var frame = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Error, frame.Type);
            Assert.Equal(MlpErrorCode.ProtocolError, Error.Parser.ParseFrom(frame.Payload).Code);

            // The rejected block still went through the decoder, so the context is in step.
            await raw.SendRequestAsync(2, EchoHeaders, new byte[] { 1 });
            Assert.Equal(MlpFrameType.Response, (await raw.ReceiveAsync()).Type);
        }
    }

    [Fact]
    public async Task Requests_over_max_concurrent_streams_get_TOO_MANY_STREAMS()
    {
        await using var backend = await TestBackend.StartAsync();
        var (gateway, raw) = await HandshakenAsync("raw-busy", $"--Mlp:Routes:orders:Url={backend.Url}");
        await using (gateway)
        await using (raw)
        {
            HeaderField[] slow = [new(":service", "orders"), new(":operation", "slow")];
            for (uint id = 1; id <= 100; id++)
                await raw.SendRequestAsync(id, slow, ReadOnlyMemory<byte>.Empty);
            await raw.SendRequestAsync(101, slow, ReadOnlyMemory<byte>.Empty);

            var frame = await raw.ReceiveAsync();
            var error = Error.Parser.ParseFrom(frame.Payload);
            Assert.Equal(MlpErrorCode.TooManyStreams, error.Code);
            Assert.Equal(101u, error.StreamId);
        }
    }

    [Fact]
    public async Task A_PING_is_answered_with_a_PONG_carrying_the_same_bytes()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendAsync(new byte[] { 0x50, 0x03, 0xAA, 0xBB, 0xCC });
            var pong = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Pong, pong.Type);
            Assert.Equal(new byte[] { 0xAA, 0xBB, 0xCC }, pong.Payload);
        }
    }

    [Fact]
    public async Task An_empty_PING_behind_a_request_in_flight_is_answered_right_after_its_RESPONSE_and_other_PINGs_at_once()
    {
        await using var backend = await TestBackend.StartAsync();
        var (gateway, raw) = await HandshakenAsync("raw-trailer", $"--Mlp:Routes:orders:Url={backend.Url}");
        await using (gateway)
        await using (raw)
        {
            await raw.SendRequestAsync(1, [new(":service", "orders"), new(":operation", "held")], ReadOnlyMemory<byte>.Empty);
            Assert.True(await backend.HeldArrived.WaitAsync(TimeSpan.FromSeconds(10)));
            // A trailer (docs/protocol.md §11): its PONG is owed until the response, so that it trails the response on the wire.
            await raw.SendAsync(new byte[] { 0x50, 0x00 });
            // A PING with bytes (an RTT probe) is answered at once all the same.
            await raw.SendAsync(new byte[] { 0x50, 0x01, 0x07 });
            var probe = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Pong, probe.Type);
            Assert.Equal(new byte[] { 0x07 }, probe.Payload);

            backend.HeldRelease.Release();
            Assert.Equal(MlpFrameType.Response, (await raw.ReceiveAsync()).Type);
            // In a write of its own, 2 ms after the response (on the gateway's clock).
            gateway.Time.Advance(TimeSpan.FromMilliseconds(2));
            var trailer = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Pong, trailer.Type);
            Assert.Empty(trailer.Payload);

            // Nothing in flight: an empty PING is answered at once.
            await raw.SendAsync(new byte[] { 0x50, 0x00 });
            var idle = await raw.ReceiveAsync();
            Assert.Equal(MlpFrameType.Pong, idle.Type);
            Assert.Empty(idle.Payload);
        }
    }

    [Fact]
    public async Task A_request_pipelined_behind_HELLO_is_answered_after_WELCOME()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        var block = new ArrayBufferWriter<byte>();
        raw.Encoder.Encode(EchoHeaders, block);
        await raw.SendAsync(w =>
        {
            MlpFrameWriter.WriteHello(w, RawMlpConnection.Hello("raw-0rtt", gateway.TokenFor("raw-0rtt")));
            MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.Idempotent, block.WrittenSpan, new byte[] { 9 });
        });

        Assert.Equal(MlpFrameType.Welcome, (await raw.ReceiveAsync()).Type);
        Assert.Equal(MlpFrameType.Response, (await raw.ReceiveAsync()).Type);
    }

    [Fact]
    public async Task A_failed_HELLO_processes_none_of_the_pipelined_requests()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        var block = new ArrayBufferWriter<byte>();
        raw.Encoder.Encode(EchoHeaders, block);
        await raw.SendAsync(w =>
        {
            MlpFrameWriter.WriteHello(w, RawMlpConnection.Hello("raw-bad", "garbage.token"));
            MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.None, block.WrittenSpan, new byte[] { 9 });
        });

        var goAway = await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.AuthFailed);
        Assert.Equal(0u, goAway.LastStreamId);
    }

    [Theory]
    [InlineData(2u, 2u)]
    [InlineData(0u, 0u)]
    public async Task A_HELLO_without_a_common_version_is_UNSUPPORTED_VERSION(uint min, uint max)
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        var hello = RawMlpConnection.Hello("raw-v", gateway.TokenFor("raw-v"));
        hello.ProtocolVersion = max;
        hello.MinProtocolVersion = min;
        await raw.SendAsync(w => MlpFrameWriter.WriteHello(w, hello));

        await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.UnsupportedVersion);
    }

    [Fact]
    public async Task A_HELLO_with_a_forged_resume_ticket_and_no_token_is_RESUME_REJECTED()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var raw = await gateway.OpenRawAsync();
        var hello = RawMlpConnection.Hello("raw-ticket", string.Empty);
        hello.ResumeTicket = Google.Protobuf.ByteString.CopyFrom(new byte[80]);
        await raw.SendAsync(w => MlpFrameWriter.WriteHello(w, hello));

        await raw.ExpectGoAwayAndCloseAsync(MlpErrorCode.ResumeRejected);
    }

    [Fact]
    public async Task A_client_GOAWAY_is_answered_by_a_close_after_the_requests_in_flight()
    {
        var (gateway, raw) = await HandshakenAsync();
        await using (gateway)
        await using (raw)
        {
            await raw.SendRequestAsync(1, EchoHeaders, new byte[] { 5 });
            await raw.SendAsync(w => MlpFrameWriter.WriteGoAway(w, new GoAway { Code = MlpErrorCode.NoError }));

            Assert.Equal(MlpFrameType.Response, (await raw.ReceiveAsync()).Type);
            var last = await raw.TryReceiveAsync();
            Assert.True(last is null || last.Type == MlpFrameType.GoAway);
            Assert.True(await raw.WaitForCloseAsync());
        }
    }
}
