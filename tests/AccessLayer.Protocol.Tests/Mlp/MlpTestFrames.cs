using System.Buffers;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Protocol.Tests.Mlp;

internal static class MlpTestFrames
{
    public static byte[] Build(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    public static MlpFrame ReadSingle(byte[] data, int maxFrameSize = MlpLimits.DefaultMaxFrameSize)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
        Assert.True(MlpFrameReader.TryRead(ref reader, maxFrameSize, out var frame));
        Assert.True(reader.End, "the frame should consume every byte");
        return frame;
    }

    /// <summary>One frame of every type, with flags and non-empty fields wherever the type has them.</summary>
    public static byte[] OneOfEach()
    {
        return Build(w =>
        {
            MlpFrameWriter.WriteHello(w, new Hello
            {
                ProtocolVersion = 1,
                DeviceId = "device-1",
                DeviceToken = "abc.def",
                ResumeTicket = Google.Protobuf.ByteString.CopyFrom(1, 2, 3),
                Capabilities = new Capabilities { HpackTableSize = 0, MaxFrameSize = 65536, Zstd = true, DictionaryIds = { 40001, 40002 } },
                ClientTimeUnixMs = 1_712_000_000_000,
                LastPushSequence = 17,
            });
            MlpFrameWriter.WriteWelcome(w, new Welcome
            {
                ProtocolVersion = 1,
                SessionId = "s-1",
                Limits = new Limits { MaxFrameSize = 131072, MaxConcurrentStreams = 100 },
                Heartbeat = new HeartbeatPolicy { IntervalMs = 60_000, MinIntervalMs = 30_000, MaxIntervalMs = 300_000, ProbeStepMs = 30_000 },
                DictionaryId = 40001,
                AcceptedDictionaryIds = { 40001 },
                ServerTimeUnixMs = 1_712_000_000_100,
            });
            MlpFrameWriter.WriteRequest(w, 1, MlpFrameFlags.BodyZstd | MlpFrameFlags.Idempotent, [0x82, 0x86], "body-1"u8);
            MlpFrameWriter.WriteResponse(w, 1, 200, MlpFrameFlags.BodyZstd, [0x88], "response"u8);
            MlpFrameWriter.WritePush(w, 42, MlpFrameFlags.Redelivered, [0xBE], "push"u8);
            MlpFrameWriter.WriteAck(w, 42);
            MlpFrameWriter.WritePing(w, [1, 2, 3, 4, 5, 6, 7, 8]);
            MlpFrameWriter.WritePong(w, [1, 2, 3, 4, 5, 6, 7, 8]);
            MlpFrameWriter.WriteDict(w, new Dict { Offer = new DictOffer { Id = 40003, Size = 16384 } });
            MlpFrameWriter.WriteGoAway(w, new GoAway { Code = MlpErrorCode.ServerDraining, LastStreamId = 1, RetryAfterMs = 500, Endpoints = { new Endpoint { Host = "127.0.0.1", Port = 7000, Transport = Transport.Tcp } } });
            MlpFrameWriter.WriteError(w, new Error { Code = MlpErrorCode.UnknownDictionary, StreamId = 3, DictionaryId = 99 });
            MlpFrameWriter.WriteRequest(w, 3, MlpFrameFlags.OneWay, [], []);
            MlpFrameWriter.WritePing(w, []);
        });
    }

    /// <summary>Parses the payload by type, so property tests exercise every payload decoder.</summary>
    public static void ParsePayload(in MlpFrame frame)
    {
        switch (frame.Type)
        {
            case MlpFrameType.Request: MlpRequestFrame.Parse(frame); break;
            case MlpFrameType.Response: MlpResponseFrame.Parse(frame); break;
            case MlpFrameType.Push: MlpPushFrame.Parse(frame); break;
            case MlpFrameType.Ack: MlpAckFrame.Parse(frame); break;
            case MlpFrameType.Ping or MlpFrameType.Pong: MlpPingFrame.Parse(frame); break;
            case MlpFrameType.Hello: MlpEnvelope.ParseHello(frame); break;
            case MlpFrameType.Welcome: MlpEnvelope.ParseWelcome(frame); break;
            case MlpFrameType.Dict: MlpEnvelope.ParseDict(frame); break;
            case MlpFrameType.GoAway: MlpEnvelope.ParseGoAway(frame); break;
            case MlpFrameType.Error: MlpEnvelope.ParseError(frame); break;
            default: throw new InvalidOperationException("the reader returned an undefined type");
        }
    }

    /// <summary>Reads frames until the data ends or more bytes are needed; returns how many and the bytes consumed.</summary>
    public static (List<(MlpFrameType Type, MlpFrameFlags Flags, byte[] Payload)> Frames, long Consumed) ReadAll(ReadOnlySequence<byte> data, int maxFrameSize = MlpLimits.DefaultMaxFrameSize)
    {
        var frames = new List<(MlpFrameType, MlpFrameFlags, byte[])>();
        var reader = new SequenceReader<byte>(data);
        while (MlpFrameReader.TryRead(ref reader, maxFrameSize, out var frame))
            frames.Add((frame.Type, frame.Flags, frame.Payload.ToArray()));
        return (frames, reader.Consumed);
    }
}
