using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// MLP over WebSocket (docs/protocol.md §2.1) as a duplex pipe, so the connection code is the same as
/// on TCP. Inbound: each binary message is read whole (refused once it passes max_frame_size + 5,
/// before more is buffered), checked to hold only whole frames, then handed over. Text messages,
/// messages ending inside a frame and oversized ones fault the input with the MLP error, which the
/// connection answers with GOAWAY; the close then carries 1002 or 1009. Outbound: whole frames are
/// batched into binary messages of at most 16 KiB (a larger frame travels alone).
/// </summary>
internal sealed class MlpWebSocketPipe : IDuplexPipe
{
    private const int BatchLimit = 16 * 1024 + MlpLimits.MaxFrameHeaderSize;

    private readonly WebSocket _socket;
    private readonly int _maxMessageSize;
    // The input pauses past 64 KiB unread (or one whole message, whichever is more): while the connection does not
    // read (a HELLO being authenticated, a session store that waits) the socket is not drained either, and TCP
    // pushes back on the client instead of the pipe buffering whatever it sends.
    private readonly Pipe _input;
    private readonly Pipe _output = new(new PipeOptions(useSynchronizationContext: false));
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;

    // Set once our side is done (the output completed, our close frame follows): what the peer still sends
    // until its own close frame is read and dropped, a lingering close, instead of waiting on a pipe nobody reads.
    private volatile bool _discarding;

    public MlpWebSocketPipe(WebSocket socket, int maxFrameSize)
    {
        _socket = socket;
        _maxMessageSize = maxFrameSize + MlpLimits.MaxFrameHeaderSize;
        var pause = Math.Max(64 * 1024, _maxMessageSize);
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, useSynchronizationContext: false));
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    /// <summary>Pumps both directions until the connection is done with the output and the peer has stopped sending.</summary>
    public async Task RunAsync(TimeProvider time, CancellationToken aborted)
    {
        var receiving = ReceiveAsync(aborted);
        await SendAsync(aborted).ConfigureAwait(false);
        _discarding = true;
        _input.Writer.CancelPendingFlush();
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync(_closeStatus, null, aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        try
        {
            // The peer answers our close with its own; one that does not is dropped.
            await receiving.WaitAsync(TimeSpan.FromSeconds(2), time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _socket.Abort();
            await receiving.ConfigureAwait(false);
        }
    }

    public void Abort() => _socket.Abort();

    private async Task ReceiveAsync(CancellationToken aborted)
    {
        var message = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == message.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(message.Length * 2, _maxMessageSize + 1));
                        message.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(message);
                        message = larger;
                    }

                    result = await _socket.ReceiveAsync(message.AsMemory(length), aborted).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await _input.Writer.CompleteAsync().ConfigureAwait(false);
                        return;
                    }

                    if (result.MessageType == WebSocketMessageType.Text)
                    {
                        await Fault(MlpErrorCode.MalformedFrame, "MLP travels in binary WebSocket messages, not text.", WebSocketCloseStatus.ProtocolError).ConfigureAwait(false);
                        return;
                    }

                    length += result.Count;
                    if (length > _maxMessageSize)
                    {
                        await Fault(MlpErrorCode.FrameTooLarge, $"A WebSocket message exceeds {_maxMessageSize} bytes.", WebSocketCloseStatus.MessageTooBig).ConfigureAwait(false);
                        return;
                    }
                }
                while (!result.EndOfMessage);

                if (_discarding)
                    continue;

                if (!EndsOnFrameBoundary(message.AsSpan(0, length), out var error))
                {
                    await Fault(error!.Code, error.Message, error.Code == MlpErrorCode.FrameTooLarge ? WebSocketCloseStatus.MessageTooBig : WebSocketCloseStatus.ProtocolError).ConfigureAwait(false);
                    return;
                }

                var flush = await _input.Writer.WriteAsync(message.AsMemory(0, length), aborted).ConfigureAwait(false);
                if (flush.IsCompleted)
                    return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            await _input.Writer.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private async Task Fault(MlpErrorCode code, string message, WebSocketCloseStatus status)
    {
        _closeStatus = status;
        await _input.Writer.CompleteAsync(new MlpProtocolException(code, message)).ConfigureAwait(false);
    }

    /// <summary>Walks the frame headers: a message must be one or more whole frames.</summary>
    private bool EndsOnFrameBoundary(ReadOnlySpan<byte> message, out MlpProtocolException? error)
    {
        error = null;
        try
        {
            while (!message.IsEmpty)
            {
                if (!MlpFrameReader.TryParseHeader(message, _maxMessageSize - MlpLimits.MaxFrameHeaderSize, out _, out _, out var payload, out var header) || header + payload > message.Length)
                {
                    error = new MlpProtocolException(MlpErrorCode.MalformedFrame, "A WebSocket message ends inside a frame.");
                    return false;
                }

                message = message[(header + payload)..];
            }

            return true;
        }
        catch (MlpProtocolException ex)
        {
            error = ex;
            return false;
        }
    }

    private async Task SendAsync(CancellationToken aborted)
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(aborted).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TakeBatch(ref buffer, out var batch))
                {
                    if (batch.IsSingleSegment)
                    {
                        await _socket.SendAsync(batch.First, WebSocketMessageType.Binary, true, aborted).ConfigureAwait(false);
                        continue;
                    }

                    var length = (int)batch.Length;
                    var copy = ArrayPool<byte>.Shared.Rent(length);
                    try
                    {
                        batch.CopyTo(copy);
                        await _socket.SendAsync(copy.AsMemory(0, length), WebSocketMessageType.Binary, true, aborted).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(copy);
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            _closeStatus = WebSocketCloseStatus.EndpointUnavailable;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes whole frames from the front of <paramref name="buffer"/>, up to the batch limit (one frame at least).</summary>
    private static bool TakeBatch(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> batch)
    {
        long taken = 0;
        Span<byte> header = stackalloc byte[MlpLimits.MaxFrameHeaderSize];
        while (taken < buffer.Length)
        {
            var rest = buffer.Slice(taken);
            var available = (int)Math.Min(rest.Length, header.Length);
            rest.Slice(0, available).CopyTo(header);
            if (!MlpFrameReader.TryParseHeader(header[..available], MlpLimits.AbsoluteMaxFrameSize, out _, out _, out var payload, out var headerLength) || headerLength + payload > rest.Length)
                break;
            if (taken > 0 && taken + headerLength + payload > BatchLimit)
                break;
            taken += headerLength + payload;
        }

        batch = buffer.Slice(0, taken);
        buffer = buffer.Slice(taken);
        return taken > 0;
    }
}
