using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace AccessLayer.Gateway.Connections;

/// <summary>
/// The output of a connection carried by Kestrel's socket transport, written to the socket by its own send
/// loop so that the close can linger as the epoll engine's does. Kestrel, once the output is completed, sends
/// what it holds and then shuts down both directions and closes the socket: data the peer still sends then
/// gets a reset, which can reach it before it read our DISCONNECT or GOAWAY. Here the send loop knows when the
/// last byte is with the kernel; then the send side alone is shut down (FIN), and what the peer still sends is
/// read and discarded (<see cref="GracefulClose.DiscardAsync"/>) before Kestrel closes the socket.
/// </summary>
internal sealed class LingeringSocketOutput : IDuplexPipe
{
    // As Kestrel's own output (MaxWriteBufferSize): a writer past 64 KiB unsent waits (back-pressure, not growth).
    private static readonly PipeOptions Options = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);

    private readonly Pipe _pipe = new(Options);
    private readonly Socket _socket;
    private List<ArraySegment<byte>>? _gather;

    private LingeringSocketOutput(Socket socket, PipeReader input)
    {
        _socket = socket;
        Input = input;
    }

    public PipeReader Input { get; }

    public PipeWriter Output => _pipe.Writer;

    /// <summary>Runs <paramref name="next"/> over a lingering output when <paramref name="connection"/> has a socket; else as is.</summary>
    public static async Task RunAsync(ConnectionContext connection, ConnectionDelegate next, TimeProvider time)
    {
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var original = connection.Transport;
        var output = new LingeringSocketOutput(socket, original.Input);
        connection.Transport = output;
        var sending = output.SendAsync();
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            connection.Transport = original;
            await output._pipe.Writer.CompleteAsync().ConfigureAwait(false);
            await output.CloseAsync(sending, connection, time).ConfigureAwait(false);
        }
    }

    /// <summary>After the application: the rest sent (bounded), FIN, then discard what the peer still sends; a peer that does not read in time is aborted.</summary>
    private async Task CloseAsync(Task<bool> sending, ConnectionContext connection, TimeProvider time)
    {
        bool sent;
        try
        {
            sent = await sending.WaitAsync(GracefulClose.DrainBound, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            sent = false;
        }

        if (!sent)
        {
            connection.Abort(new ConnectionAbortedException("The peer did not read the connection's last bytes in time."));
            _pipe.Reader.CancelPendingRead();
            await sending.ConfigureAwait(false);
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Reset or aborted meanwhile: nothing to linger for.
            return;
        }

        await GracefulClose.DiscardAsync(Input, time).ConfigureAwait(false);
    }

    /// <summary>Sends what the application flushes; true when it completed the output and everything was handed to the kernel.</summary>
    private async Task<bool> SendAsync()
    {
        var reader = _pipe.Reader;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    return false;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await SendBufferAsync(buffer).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // The peer reset or the connection was aborted: the writer's next flush sees the output completed.
            failure = ex;
            return false;
        }
        finally
        {
            await reader.CompleteAsync(failure is null ? null : new ConnectionResetException(failure.Message, failure)).ConfigureAwait(false);
        }
    }

    private async ValueTask SendBufferAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await SendAllAsync(buffer.First).ConfigureAwait(false);
            return;
        }

        // One gathered send for a buffer of several segments (the pipe's memory is array-backed).
        var gather = _gather ??= new List<ArraySegment<byte>>(16);
        gather.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                gather.Clear();
                foreach (var each in buffer)
                {
                    await SendAllAsync(each).ConfigureAwait(false);
                }

                return;
            }

            gather.Add(array);
        }

        var total = buffer.Length;
        var sent = await _socket.SendAsync(gather, SocketFlags.None).ConfigureAwait(false);
        gather.Clear();
        if (sent < total)
        {
            foreach (var rest in buffer.Slice(sent))
            {
                await SendAllAsync(rest).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> memory)
    {
        while (!memory.IsEmpty)
        {
            var sent = await _socket.SendAsync(memory, SocketFlags.None).ConfigureAwait(false);
            memory = memory[sent..];
        }
    }
}
