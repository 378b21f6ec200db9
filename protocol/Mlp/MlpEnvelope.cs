using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;

namespace AccessLayer.Protocol.Mlp;

/// <summary>Parses the protobuf payloads of HELLO, WELCOME, DICT, GOAWAY and ERROR frames.</summary>
public static class MlpEnvelope
{
    public static bool IsEnvelopeType(MlpFrameType type) =>
        type is MlpFrameType.Hello or MlpFrameType.Welcome or MlpFrameType.Dict or MlpFrameType.GoAway or MlpFrameType.Error;

    public static Hello ParseHello(in MlpFrame frame) => Parse(frame, MlpFrameType.Hello, Hello.Parser);

    public static Welcome ParseWelcome(in MlpFrame frame) => Parse(frame, MlpFrameType.Welcome, Welcome.Parser);

    public static Dict ParseDict(in MlpFrame frame) => Parse(frame, MlpFrameType.Dict, Dict.Parser);

    public static GoAway ParseGoAway(in MlpFrame frame) => Parse(frame, MlpFrameType.GoAway, GoAway.Parser);

    public static Error ParseError(in MlpFrame frame) => Parse(frame, MlpFrameType.Error, Error.Parser);

    /// <summary>Bad protobuf is <see cref="MlpProtocolException"/> (MalformedFrame), a connection error; no other exception escapes for bad bytes.</summary>
    public static T Parse<T>(in MlpFrame frame, MlpFrameType expected, MessageParser<T> parser)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        MlpPayloadReader.Expect(frame, expected);
        try
        {
            return parser.ParseFrom(frame.Payload);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IndexOutOfRangeException)
        {
            // Google.Protobuf throws IndexOutOfRangeException for a nested message whose length runs past
            // the payload followed by a varint the payload cuts (found by bench/AccessLayer.Fuzz): bad input too.
            throw new MlpProtocolException(MlpErrorCode.MalformedFrame, $"{expected} payload is not a valid envelope: {e.Message}", e);
        }
    }
}
