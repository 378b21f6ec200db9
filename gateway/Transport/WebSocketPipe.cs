using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using AccessLayer.Gateway.Connections;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// A WebSocket as a duplex pipe, so a protocol's connection code is the same as on TCP (MQTT over
/// <c>/mqtt</c>, MLP over <c>/mlp</c>); the protocol's <see cref="WebSocketFraming"/> says how messages map to
/// bytes. Both directions are bounded: the input pauses past 64 KiB unread (or one whole message, whichever is
/// more), so while the connection does not read the socket is not drained either and TCP pushes back on the
/// client; the output pauses past 64 KiB. An idle connection holds no receive buffer (a zero-byte receive waits
/// for data). Once our side is done (the output completed) our close frame goes out and the close lingers:
/// what the peer still sends until its own close frame is read and dropped, bounded by
/// <see cref="GracefulClose.LingerBound"/>, so the peer reads our last message instead of a reset or a stall.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The abort source has no timer and may be cancelled late (a late Abort stays safe), so it is never disposed.")]
internal sealed class WebSocketPipe : IDuplexPipe
{
    private const int ReceiveBufferSize = 4096;

    // A message cut from several pipe segments is copied into one buffer up to this size (one WebSocket frame per
    // message, as most clients read); a larger one goes out as fragments of one message.
    private const int CopyLimit = 64 * 1024;

    // The peer's close frame arrived where a message was being read.
    private static readonly WebSocketFault PeerClosed = new(null, WebSocketCloseStatus.NormalClosure, null);

    private readonly WebSocket _socket;
    private readonly WebSocketFraming _framing;
    private readonly Pipe _input;
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
    private readonly CancellationTokenSource _aborted = new();
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string? _closeDescription;

    // Set once our side is done: what the peer still sends until its close frame is dropped.
    private volatile bool _discarding;

    public WebSocketPipe(WebSocket socket, WebSocketFraming framing)
    {
        _socket = socket;
        _framing = framing;
        var pause = Math.Max(64 * 1024, framing.MaxMessageSize ?? 0);
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, useSynchronizationContext: false));
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    /// <summary>Pumps both directions until the connection is done with the output and the peer has closed (or the linger bound passed).</summary>
    public async Task RunAsync(TimeProvider time, CancellationToken aborted)
    {
        using var link = aborted.Register(static state => ((WebSocketPipe)state!).Abort(), this);
        var receiving = ReceiveAsync();
        await SendAsync().ConfigureAwait(false);
        _discarding = true;
        _input.Writer.CancelPendingFlush();
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync(_closeStatus, _closeDescription, _aborted.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }

        try
        {
            // The peer answers our close with its own; one that does not is dropped.
            await receiving.WaitAsync(GracefulClose.LingerBound, time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort();
            await receiving.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the connection is done with the pipes: waits for <paramref name="pumping"/> (<see cref="RunAsync"/>)
    /// with a bound, so a peer that reads nothing cannot hold the connection by leaving our last send stuck.
    /// </summary>
    public async Task FinishAsync(Task pumping, TimeProvider time)
    {
        try
        {
            await pumping.WaitAsync(GracefulClose.DrainBound + GracefulClose.LingerBound, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort();
            await pumping.ConfigureAwait(false);
        }
    }

    /// <summary>Drops the connection at once; safe to call late or twice (the token source has no timer and is never disposed).</summary>
    public void Abort()
    {
        _aborted.Cancel();
        _socket.Abort();
        _output.Reader.CancelPendingRead();
    }

    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                // A zero-byte receive waits for data without holding a buffer, so an idle socket costs none.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, _aborted.Token).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                    break;
                WebSocketFault? fault;
                if (_discarding)
                {
                    if (!await ReceiveChunkAsync(discard: true).ConfigureAwait(false))
                        break;
                    continue;
                }

                if (peek.MessageType == WebSocketMessageType.Text)
                    fault = _framing.TextMessage;
                else if (_framing.MaxMessageSize is { } maxMessage)
                    fault = await ReceiveMessageAsync(maxMessage).ConfigureAwait(false);
                else if (!await ReceiveChunkAsync(discard: false).ConfigureAwait(false))
                    break;
                else
                    continue;

                if (ReferenceEquals(fault, PeerClosed))
                    break;
                if (fault is not null)
                {
                    // The input ends with the fault; what the peer still sends until its close frame is dropped.
                    await FaultAsync(fault).ConfigureAwait(false);
                    _discarding = true;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The socket went away (reset, aborted): the connection sees a reset, unless it is already done with us.
            await _input.Writer.CompleteAsync(_discarding || ex is OperationCanceledException ? null : new ConnectionResetException(ex.Message, ex)).ConfigureAwait(false);
            return;
        }

        await _input.Writer.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Reads one message whole (refused past <paramref name="maxMessage"/> before more is buffered), checks it and hands it over; the fault when it is refused.</summary>
    private async ValueTask<WebSocketFault?> ReceiveMessageAsync(int maxMessage)
    {
        var message = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        try
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == message.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(message.Length * 2, maxMessage + 1));
                    message.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(message);
                    message = larger;
                }

                result = await _socket.ReceiveAsync(message.AsMemory(length), _aborted.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                    return PeerClosed;

                length += result.Count;
                if (length > maxMessage)
                    return _framing.MessageTooBig(maxMessage);
            }
            while (!result.EndOfMessage);

            if (_framing.CheckMessage(message.AsSpan(0, length)) is { } fault)
                return fault;
            var flush = await _input.Writer.WriteAsync(message.AsMemory(0, length)).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
                _discarding = true;
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    /// <summary>Streams what the socket has into the input pipe (or drops it once discarding); false at the peer's close frame.</summary>
    private async ValueTask<bool> ReceiveChunkAsync(bool discard)
    {
        if (discard)
        {
            var scratch = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
            try
            {
                var dropped = await _socket.ReceiveAsync(scratch.AsMemory(), _aborted.Token).ConfigureAwait(false);
                return dropped.MessageType != WebSocketMessageType.Close;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        var memory = _input.Writer.GetMemory(ReceiveBufferSize);
        var received = await _socket.ReceiveAsync(memory, _aborted.Token).ConfigureAwait(false);
        if (received.MessageType == WebSocketMessageType.Close)
            return false;
        _input.Writer.Advance(received.Count);
        var flush = await _input.Writer.FlushAsync().ConfigureAwait(false);

        // The connection stopped reading (completed its input) or our side is done: drop from here on.
        if (flush.IsCompleted || flush.IsCanceled)
            _discarding = true;
        return true;
    }

    private async Task FaultAsync(WebSocketFault fault)
    {
        _closeStatus = fault.Status;
        _closeDescription = fault.Description;
        await _input.Writer.CompleteAsync(fault.Error).ConfigureAwait(false);
        if (fault.Error is null)
        {
            // Nothing for the connection to answer: our close goes out now (the connection sees the input end).
            try
            {
                await _socket.CloseOutputAsync(fault.Status, fault.Description, _aborted.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
            }
        }
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_aborted.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty && _framing.NextMessageLength(buffer) is var length and > 0)
                {
                    await SendMessageAsync(buffer.Slice(0, length)).ConfigureAwait(false);
                    buffer = buffer.Slice(length);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            _closeStatus = WebSocketCloseStatus.EndpointUnavailable;
            _socket.Abort();
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask SendMessageAsync(ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            await _socket.SendAsync(message.First, WebSocketMessageType.Binary, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
            return;
        }

        if (message.Length <= CopyLimit)
        {
            var length = (int)message.Length;
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                message.CopyTo(copy);
                await _socket.SendAsync(copy.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }

            return;
        }

        var position = message.Start;
        message.TryGet(ref position, out var segment);
        while (true)
        {
            var hasNext = message.TryGet(ref position, out var next);
            await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: !hasNext, _aborted.Token).ConfigureAwait(false);
            if (!hasNext)
                return;
            segment = next;
        }
    }
}
