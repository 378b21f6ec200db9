using System.Buffers;
using System.Net.WebSockets;
using AccessLayer.Gateway.Transport;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// MLP over WebSocket (docs/protocol.md §2.1) for <see cref="WebSocketPipe"/>. Inbound: each binary message is
/// read whole (refused once it passes max_frame_size + 5, before more is buffered) and must hold only whole
/// frames. Text messages, messages ending inside a frame and oversized ones fault the input with the MLP error,
/// which the connection answers with GOAWAY; the close then carries 1002 or 1009. Outbound: whole frames are
/// batched into binary messages of at most 16 KiB (a larger frame travels alone).
/// </summary>
internal sealed class MlpWebSocketFraming(int maxFrameSize) : WebSocketFraming
{
    private readonly int _maxMessageSize = maxFrameSize + MlpLimits.MaxFrameHeaderSize;

    public override int? MaxMessageSize => _maxMessageSize;

    public override WebSocketFault TextMessage =>
        Fault(new MlpProtocolException(MlpErrorCode.MalformedFrame, "MLP travels in binary WebSocket messages, not text."));

    public override WebSocketFault MessageTooBig(int maxMessageSize) =>
        Fault(new MlpProtocolException(MlpErrorCode.FrameTooLarge, $"A WebSocket message exceeds {maxMessageSize} bytes."));

    /// <summary>Walks the frame headers: a message must be one or more whole frames.</summary>
    public override WebSocketFault? CheckMessage(ReadOnlySpan<byte> message)
    {
        try
        {
            while (!message.IsEmpty)
            {
                if (!MlpFrameReader.TryParseHeader(message, maxFrameSize, out _, out _, out var payload, out var header) || header + payload > message.Length)
                    return Fault(new MlpProtocolException(MlpErrorCode.MalformedFrame, "A WebSocket message ends inside a frame."));
                message = message[(header + payload)..];
            }

            return null;
        }
        catch (MlpProtocolException ex)
        {
            return Fault(ex);
        }
    }

    public override long NextMessageLength(in ReadOnlySequence<byte> buffer) => MlpWebSocketBatch.NextMessageLength(buffer);

    private static WebSocketFault Fault(MlpProtocolException error) =>
        new(error, error.Code == MlpErrorCode.FrameTooLarge ? WebSocketCloseStatus.MessageTooBig : WebSocketCloseStatus.ProtocolError, null);
}
