using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// Presents an accepted WebSocket as a Kestrel <see cref="ConnectionContext"/>, so a protocol's
/// <see cref="ConnectionHandler"/> runs over WebSocket exactly as over TCP. Two pumps move bytes:
/// binary messages from the socket into the input pipe (message boundaries are ignored: MQTT
/// packets may span messages), and each flush of the output pipe out as one binary message.
/// </summary>
internal sealed class WebSocketConnectionContext : ConnectionContext
{
    // Pause thresholds bound what one connection buffers in each direction (backpressure, not growth).
    private static readonly PipeOptions PipeOptions = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);
    private const int ReceiveBufferSize = 4096;

    private readonly WebSocket _socket;
    private readonly Pipe _input = new(PipeOptions);
    private readonly Pipe _output = new(PipeOptions);
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly TimeProvider _time;

    public WebSocketConnectionContext(WebSocket socket, string connectionId, EndPoint? localEndPoint, EndPoint? remoteEndPoint, IFeatureCollection features, TimeProvider time)
    {
        _socket = socket;
        _time = time;
        ConnectionId = connectionId;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;
        Features = features;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException();
    }

    /// <summary>Runs the pumps and <paramref name="application"/>; completes when all of them are done.</summary>
    public async Task RunAsync(Func<ConnectionContext, Task> application)
    {
        var receiving = ReceiveLoopAsync();
        var sending = SendLoopAsync();
        try
        {
            await application(this).ConfigureAwait(false);
        }
        finally
        {
            // The application is done with the pipes: whatever it did not complete is completed here.
            await _output.Writer.CompleteAsync().ConfigureAwait(false);
            await _input.Reader.CompleteAsync().ConfigureAwait(false);
            try
            {
                // A peer that never answers our close frame must not hold the connection.
                await Task.WhenAll(receiving, sending).WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Abort(new ConnectionAbortedException("WebSocket close handshake timed out."));
                await Task.WhenAll(receiving, sending).ConfigureAwait(false);
            }

            _closed.Cancel();
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        // The token sources are never disposed (no timers): a late Abort stays safe.
        _aborted.Cancel();
        _socket.Abort();
        _output.Reader.CancelPendingRead();
        _closed.Cancel();
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                // A zero-byte receive waits for data without holding a buffer, so an idle socket costs none.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, _aborted.Token).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var memory = _input.Writer.GetMemory(ReceiveBufferSize);
                var received = await _socket.ReceiveAsync(memory, _aborted.Token).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (received.MessageType == WebSocketMessageType.Text)
                {
                    // MQTT over WebSocket is binary only (MQTT 5.0 6.0 / 3.1.1 6.0).
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.InvalidMessageType, "binary frames only", _aborted.Token).ConfigureAwait(false);
                    break;
                }

                _input.Writer.Advance(received.Count);
                var flush = await _input.Writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            error = ex is OperationCanceledException ? null : new ConnectionResetException(ex.Message, ex);
        }
        finally
        {
            await _input.Writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await SendMessageAsync(buffer).ConfigureAwait(false);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    // The application closed the connection gracefully: say so in WebSocket terms.
                    if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _aborted.Token).ConfigureAwait(false);
                    }

                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _socket.Abort();
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask SendMessageAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, WebSocketMessageType.Binary, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
            return;
        }

        var position = buffer.Start;
        buffer.TryGet(ref position, out var segment);
        while (true)
        {
            var hasNext = buffer.TryGet(ref position, out var next);
            await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: !hasNext, _aborted.Token).ConfigureAwait(false);
            if (!hasNext)
            {
                return;
            }

            segment = next;
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
