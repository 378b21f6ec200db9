using System.Buffers;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace AccessLayer.Fuzz.Targets;

/// <summary>
/// MLP frames as the gateway reads them (gateway/Mlp/Connections/MlpConnection.cs): the frame reader
/// (HELLO at most 16 KiB, then <c>Mlp:MaxFrameSize</c>, 128 KiB), HELLO first with its device token and
/// resume ticket checked, then REQUEST (header block through the connection's HPACK decoder and the
/// pseudo-header rules, zstd body through the codec), ACK, PING, PONG, DICT and GOAWAY. Client mode runs
/// the client's side: WELCOME, RESPONSE, PUSH, ERROR and the rest. Stream errors (an MLP exception with a
/// stream id) are answered and the connection goes on, as in the gateway; the first connection error ends
/// the input. Documented error: <see cref="MlpProtocolException"/> (HPACK and zstd failures arrive wrapped in it).
/// </summary>
public sealed class MlpFuzzTarget : IFuzzTarget, IDisposable
{
    public const byte ModeHandshake = 0;
    public const byte ModeWelcomed = 1;
    public const byte ModeClient = 2;
    private const int Modes = 3;

    internal const string TokenSecret = "fuzz-token-secret";
    internal const string TicketSecret = "fuzz-ticket-secret";

    private static readonly Lazy<IReadOnlyList<byte[]>> SharedCorpus = new(() => MlpCorpus.Build());

    private readonly byte[] _tokenKey = System.Text.Encoding.UTF8.GetBytes(TokenSecret);
    private readonly MlpResumeTicketProtector _tickets = new(Options.Create(new MlpOptions { TicketSecret = TicketSecret }), TimeProvider.System);
    private readonly ZstdDictionaryRegistry _registry = new();
    private readonly ZstdCodec _codec;

    public MlpFuzzTarget()
    {
        _registry.TryAdd(ZstdDictionary.Create(ZstdSamples.Dictionaries.Value.First));
        _codec = new ZstdCodec(_registry, new ZstdCodecOptions { MaxDecompressedSize = MlpLimits.DefaultMaxBodySize, AllowUnknownContentSize = true, ContextPoolSize = 2 });
    }

    public string Name => "mlp";

    public IReadOnlyList<byte[]> Corpus => SharedCorpus.Value;

    public long MaxRetained { get; private set; }

    public long RetainedBound => MlpLimits.DefaultMaxFrameSize;

    public bool IsExpected(Exception exception) => exception is MlpProtocolException;

    public void Run(in ReadOnlySequence<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var mode = input.FirstSpan[0] % Modes;
        var reader = new SequenceReader<byte>(input.Slice(1));
        var welcomed = mode != ModeHandshake;
        var decoder = NewDecoder();
        MlpProtocolException? streamError = null;
        while (true)
        {
            var limit = welcomed ? MlpLimits.DefaultMaxFrameSize : MlpLimits.MaxHelloFrameSize;
            if (!MlpFrameReader.TryRead(ref reader, limit, out var frame))
            {
                break;
            }

            MaxRetained = Math.Max(MaxRetained, frame.Payload.Length);
            if (frame.Payload.Length > limit)
            {
                throw new FuzzBoundException($"The frame reader returned a {frame.Payload.Length}-byte payload over the {limit}-byte limit.");
            }

            try
            {
                if (mode == ModeClient)
                {
                    ClientFrame(frame, decoder);
                }
                else if (!welcomed)
                {
                    if (frame.Type != MlpFrameType.Hello)
                    {
                        throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"The first frame was {frame.Type}, not HELLO.");
                    }

                    Hello(MlpEnvelope.ParseHello(frame));
                    welcomed = true;
                }
                else
                {
                    ServerFrame(frame, decoder);
                }
            }
            catch (MlpProtocolException e) when (!e.IsConnectionError)
            {
                streamError = e;
            }
        }

        if (streamError is not null)
        {
            throw streamError;
        }
    }

    public void Dispose()
    {
        _codec.Dispose();
        _registry.Dispose();
    }

    private static HpackDecoder NewDecoder() =>
        new(new HpackDecoderOptions { DynamicTableSizeLimit = MlpLimits.DefaultHpackTableSize, MaxHeaderListSize = 16 * 1024, MaxStringLength = 16 * 1024 });

    private void Hello(Hello hello)
    {
        if (hello.DeviceToken.Length > 0 && MlpDeviceToken.TryDecodeUnverified(hello.DeviceToken, out _))
        {
            MlpDeviceToken.Verify(hello.DeviceToken, _tokenKey, DateTimeOffset.UtcNow, out _);
        }

        if (!hello.ResumeTicket.IsEmpty && hello.ResumeTicket.Length <= MlpLimits.MaxResumeTicketSize)
        {
            _tickets.TryUnprotect(hello.ResumeTicket.Span, out _);
        }
    }

    private void ServerFrame(in MlpFrame frame, HpackDecoder decoder)
    {
        switch (frame.Type)
        {
            case MlpFrameType.Request:
                var request = MlpRequestFrame.Parse(frame);
                var fields = MlpHeaders.Decode(decoder, request.HeaderBlock);
                var (_, _, regular) = MlpHeaders.SplitRequest(fields, request.StreamId);
                MlpHeaders.Timeout(regular, TimeSpan.FromSeconds(30));
                Body(request.Body, request.IsBodyCompressed, request.StreamId);
                break;
            case MlpFrameType.Ack:
                MlpAckFrame.Parse(frame);
                break;
            case MlpFrameType.Ping:
            case MlpFrameType.Pong:
                MlpPingFrame.Parse(frame);
                break;
            case MlpFrameType.Dict:
                MlpEnvelope.ParseDict(frame);
                break;
            case MlpFrameType.GoAway:
                MlpEnvelope.ParseGoAway(frame);
                break;
            default:
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"{frame.Type} is not sent by clients, or not after the handshake.");
        }
    }

    private void ClientFrame(in MlpFrame frame, HpackDecoder decoder)
    {
        switch (frame.Type)
        {
            case MlpFrameType.Welcome:
                MlpEnvelope.ParseWelcome(frame);
                break;
            case MlpFrameType.Response:
                var response = MlpResponseFrame.Parse(frame);
                MlpHeaders.Decode(decoder, response.HeaderBlock);
                Body(response.Body, response.IsBodyCompressed, response.StreamId);
                break;
            case MlpFrameType.Push:
                var push = MlpPushFrame.Parse(frame);
                MlpHeaders.Decode(decoder, push.HeaderBlock);
                Body(push.Body, push.IsBodyCompressed, 0);
                break;
            case MlpFrameType.Ping:
            case MlpFrameType.Pong:
                MlpPingFrame.Parse(frame);
                break;
            case MlpFrameType.Dict:
                MlpEnvelope.ParseDict(frame);
                break;
            case MlpFrameType.GoAway:
                MlpEnvelope.ParseGoAway(frame);
                break;
            case MlpFrameType.Error:
                MlpEnvelope.ParseError(frame);
                break;
            default:
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"{frame.Type} is not sent by servers.");
        }
    }

    private void Body(in ReadOnlySequence<byte> body, bool compressed, uint streamId)
    {
        if (!compressed)
        {
            return;
        }

        var output = new ArrayBufferWriter<byte>((int)Math.Min(Math.Max(body.Length * 4, 256), MlpLimits.DefaultMaxBodySize));
        try
        {
            _codec.Decompress(body, output);
        }
        catch (ZstdException e)
        {
            // A push has no stream: its body error is the connection's (stream id 0).
            throw MlpCompressionErrors.ToProtocolException(e, streamId);
        }
    }
}
