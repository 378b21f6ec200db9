using System.Buffers;
using System.Net.WebSockets;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// What a protocol asks of <see cref="WebSocketPipe"/>: whether inbound messages are streamed as they
/// arrive or each is read whole and checked, what a text or oversized message means, and where the
/// outbound byte stream is cut into messages. The default is a byte stream in binary messages whose
/// boundaries mean nothing (MQTT 5.0 6.0 / 3.1.1 6.0: a packet may span messages).
/// </summary>
internal class WebSocketFraming
{
    public static readonly WebSocketFraming Stream = new();

    /// <summary>Null: inbound bytes are streamed as they arrive. Otherwise each message is read whole, refused past this size, and <see cref="CheckMessage"/>ed.</summary>
    public virtual int? MaxMessageSize => null;

    /// <summary>A whole inbound message (only with <see cref="MaxMessageSize"/>): null when it may be handed over, else the fault.</summary>
    public virtual WebSocketFault? CheckMessage(ReadOnlySpan<byte> message) => null;

    /// <summary>A text message arrived: the input ends (with the fault's error, if any) and the close carries its status.</summary>
    public virtual WebSocketFault TextMessage => new(null, WebSocketCloseStatus.InvalidMessageType, "binary frames only");

    /// <summary>A message passed <see cref="MaxMessageSize"/>.</summary>
    public virtual WebSocketFault MessageTooBig(int maxMessageSize) => new(null, WebSocketCloseStatus.MessageTooBig, null);

    /// <summary>How many leading bytes of <paramref name="buffer"/> go out as the next message; 0 when they must wait for more.</summary>
    public virtual long NextMessageLength(in ReadOnlySequence<byte> buffer) => buffer.Length;
}

/// <summary>Why the inbound side ended: the error the input pipe completes with (null: a plain end) and the close status we send.</summary>
internal sealed record WebSocketFault(Exception? Error, WebSocketCloseStatus Status, string? Description);
