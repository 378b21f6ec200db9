namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// The high nibble of a frame's first byte. 0 and 0xC..0xF are reserved in version 1 and
/// rejected. HELLO is 7 so the first byte of an MLP connection (0x70) differs from MQTT's
/// CONNECT (0x10), TLS (0x16) and HTTP ('G', 'P'): a shared port can sniff the protocol.
/// </summary>
public enum MlpFrameType : byte
{
    Request = 0x1,
    Response = 0x2,
    Push = 0x3,
    Ack = 0x4,
    Ping = 0x5,
    Pong = 0x6,
    Hello = 0x7,
    Welcome = 0x8,
    Dict = 0x9,
    GoAway = 0xA,
    Error = 0xB,
}
