using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Transport;

/// <summary>
/// MLP over WebSocket (docs/protocol.md §2.1): every binary message received is appended to the input;
/// what the client flushes (whole frames) is sent as binary messages of at most 16 KiB of frames.
/// </summary>
internal sealed class WebSocketMlpTransport : IMlpTransport, IDuplexPipe
{
    private readonly ClientWebSocket _socket;
    private readonly Pipe _input = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private readonly Task _sending;

    public WebSocketMlpTransport(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public IDuplexPipe Pipe => this;

    public string Name => "websocket";

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    public void Abort()
    {
        _socket.Abort();
        _stop.Cancel();
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(4096);
                var result = await _socket.ReceiveAsync(memory, _stop.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                    break;
                if (result.MessageType == WebSocketMessageType.Text)
                    throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "The server sent a text WebSocket message.");
                writer.Advance(result.Count);
                if (result.EndOfMessage)
                {
                    var flush = await writer.FlushAsync(_stop.Token).ConfigureAwait(false);
                    if (flush.IsCompleted)
                        break;
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or MlpProtocolException)
        {
            await writer.CompleteAsync(ex is MlpProtocolException ? ex : null).ConfigureAwait(false);
        }
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TakeBatch(ref buffer, out var batch))
                {
                    var bytes = batch.IsSingleSegment ? batch.First : batch.ToArray();
                    await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, _stop.Token).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    break;
            }

            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TakeBatch(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> batch)
    {
        var taken = MlpWebSocketBatch.NextMessageLength(buffer);
        batch = buffer.Slice(0, taken);
        buffer = buffer.Slice(taken);
        return taken > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _sending.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _stop.Cancel();
        _socket.Abort();
        await _receiving.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }
}
