using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Protocol.Tests.Mlp;

public sealed class MlpEnvelopeTests
{
    [Fact]
    public void Hello_round_trips_every_field()
    {
        var hello = new Hello
        {
            ProtocolVersion = 1,
            MinProtocolVersion = 1,
            DeviceId = "device-7",
            DeviceToken = "payload.mac",
            ResumeTicket = ByteString.CopyFromUtf8("ticket"),
            Capabilities = new Capabilities { HpackTableSize = 0, DictionaryIds = { 40001 }, MaxFrameSize = 65536, MaxBodySize = 2 << 20, Zstd = true },
            ClientTimeUnixMs = 1_712_000_000_000,
            ZoneCookie = ByteString.CopyFromUtf8("zone-a"),
            LastPushSequence = 1234,
            Platform = "android",
            AppVersion = "5.1.0",
            NetworkType = "wifi",
        };

        var parsed = MlpEnvelope.ParseHello(MlpTestFrames.ReadSingle(MlpTestFrames.Build(w => MlpFrameWriter.WriteHello(w, hello))));

        Assert.Equal(hello, parsed);
        Assert.True(parsed.Capabilities.HasHpackTableSize);
    }

    [Fact]
    public void Welcome_round_trips_limits_and_heartbeat_policy()
    {
        var welcome = new Welcome
        {
            ProtocolVersion = 1,
            SessionId = "session",
            ResumeTicket = ByteString.CopyFrom(1, 2, 3),
            ResumeTicketLifetimeMs = 86_400_000,
            SessionResumed = true,
            Limits = new Limits { MaxFrameSize = 262144, MaxBodySize = 1 << 20, HpackTableSize = 4096, MaxConcurrentStreams = 100, PushWindow = 64 },
            Heartbeat = new HeartbeatPolicy { IntervalMs = 60000, MinIntervalMs = 30000, MaxIntervalMs = 300000, ProbeStepMs = 30000, PongTimeoutMs = 10000, IdleTimeoutMs = 330000, ProbeSuccessCount = 3 },
            ZoneCookie = ByteString.CopyFromUtf8("z"),
            ServerTimeUnixMs = 5,
            DictionaryId = 40001,
            AcceptedDictionaryIds = { 40001, 40000 },
            UserId = "u-1",
        };

        Assert.Equal(welcome, MlpEnvelope.ParseWelcome(MlpTestFrames.ReadSingle(MlpTestFrames.Build(w => MlpFrameWriter.WriteWelcome(w, welcome)))));
    }

    [Fact]
    public void Dict_carries_offer_fetch_and_data()
    {
        var frames = MlpTestFrames.Build(w =>
        {
            MlpFrameWriter.WriteDict(w, new Dict { Offer = new DictOffer { Id = 40002, Size = 100 } });
            MlpFrameWriter.WriteDict(w, new Dict { Fetch = new DictFetch { Id = 40002 } });
            MlpFrameWriter.WriteDict(w, new Dict { Data = new DictData { Id = 40002, Content = ByteString.CopyFrom(new byte[100]) } });
        });

        var parsed = MlpTestFrames.ReadAll(new System.Buffers.ReadOnlySequence<byte>(frames)).Frames
            .Select(f => Dict.Parser.ParseFrom(f.Payload).KindCase).ToArray();
        Assert.Equal(new[] { Dict.KindOneofCase.Offer, Dict.KindOneofCase.Fetch, Dict.KindOneofCase.Data }, parsed);
    }

    [Fact]
    public void GoAway_and_Error_round_trip_their_codes()
    {
        var goAway = new GoAway { Code = MlpErrorCode.Redirect, Message = "zone b", LastStreamId = 17, RetryAfterMs = 250, ZoneCookie = ByteString.CopyFromUtf8("b"), Endpoints = { new Endpoint { Host = "::1", Port = 9000, Transport = Transport.WebsocketTls, Path = "/mlp", Zone = "b" } } };
        var error = new Error { Code = MlpErrorCode.BodyTooLarge, Message = "too big", StreamId = 5, RetryAfterMs = 0, DictionaryId = 0 };

        Assert.Equal(goAway, MlpEnvelope.ParseGoAway(MlpTestFrames.ReadSingle(MlpTestFrames.Build(w => MlpFrameWriter.WriteGoAway(w, goAway)))));
        Assert.Equal(error, MlpEnvelope.ParseError(MlpTestFrames.ReadSingle(MlpTestFrames.Build(w => MlpFrameWriter.WriteError(w, error)))));
    }

    [Fact]
    public void Error_code_wire_values_are_stable()
    {
        Assert.Equal(0, (int)MlpErrorCode.NoError);
        Assert.Equal(2, (int)MlpErrorCode.FrameTooLarge);
        Assert.Equal(11, (int)MlpErrorCode.UnknownDictionary);
        Assert.Equal(23, (int)MlpErrorCode.UnexpectedFrame);
    }

    [Theory]
    [InlineData(new byte[] { 0x70, 0x02, 0x0A, 0x05 })]
    [InlineData(new byte[] { 0x70, 0x01, 0xFF })]
    [InlineData(new byte[] { 0xA0, 0x02, 0x12, 0x01 })]
    public void Invalid_protobuf_is_a_malformed_frame(byte[] data)
    {
        var frame = MlpTestFrames.ReadSingle(data);
        var error = Assert.Throws<MlpProtocolException>(() => MlpTestFrames.ParsePayload(frame));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }

    // Found by bench/AccessLayer.Fuzz (mlp, seed 20261204, index 7376090): a nested message whose length
    // runs past the payload, then a varint cut by the payload's end, made Google.Protobuf throw
    // IndexOutOfRangeException instead of InvalidProtocolBufferException, and that escaped the connection.
    [Theory]
    [InlineData(new byte[] { 0x90, 0x09, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x08, 0xC1, 0xB8 })]
    [InlineData(new byte[] { 0x70, 0x09, 0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x08, 0xC1, 0xB8 })]
    [InlineData(new byte[] { 0x80, 0x09, 0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x08, 0xC1, 0xB8 })]
    public void A_nested_length_past_the_payload_and_a_cut_varint_is_a_malformed_frame(byte[] data)
    {
        var frame = MlpTestFrames.ReadSingle(data);
        var error = Assert.Throws<MlpProtocolException>(() => MlpTestFrames.ParsePayload(frame));
        Assert.Equal(MlpErrorCode.MalformedFrame, error.Code);
    }

    [Fact]
    public void Parse_checks_the_frame_type()
    {
        var frame = MlpTestFrames.ReadSingle(MlpTestFrames.Build(w => MlpFrameWriter.WriteError(w, new Error())));
        Assert.Throws<ArgumentException>(() => MlpEnvelope.ParseHello(frame));
    }
}
