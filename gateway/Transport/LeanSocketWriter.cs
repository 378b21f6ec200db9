using System.IO.Pipelines;
using System.Net.Sockets;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// A <see cref="PipeWriter"/> straight over a socket. Writes go into pooled blocks; FlushAsync sends
/// them with non-blocking sends and completes at once when the kernel took everything (the common
/// case), otherwise it stays pending until the rest is sent: that is the back-pressure, and at most
/// what one producer wrote between flushes is ever buffered. A writer with nothing unsent holds no block.
/// Not thread-safe, like any PipeWriter: one producer, no writes while a flush is pending.
/// </summary>
internal sealed class LeanSocketWriter : PipeWriter
{
    private readonly Socket _socket;
    private BlockSegment? _head;
    private BlockSegment? _tail;
    private int _headSent;
    private long _unflushed;
    private bool _completed;
    private bool _closed;

    public LeanSocketWriter(Socket socket) => _socket = socket;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unflushed;

    public override Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).FreeMemory;

    public override Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).FreeSpan;

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
        {
            return;
        }

        if (_tail is null || bytes > _tail.Free)
        {
            throw new InvalidOperationException("Advanced past the memory the writer handed out.");
        }

        _tail.Commit(bytes);
        _unflushed += bytes;
    }

    public override void CancelPendingFlush()
    {
        // A flush here is pending only while the kernel refuses bytes; cancelling it would tear a packet.
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (SendWithoutBlocking())
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: _closed));
        }

        return SendRestAsync(cancellationToken);
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (exception is null && !SendWithoutBlocking())
        {
            // The kernel is full: finish in the background, then close our side.
            _ = FinishAsync();
            return;
        }

        Finish(graceful: exception is null);
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        if (exception is null)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        _completed = true;
        Finish(graceful: exception is null);
    }

    /// <summary>The connection is gone: drop what is unsent, later flushes report completion.</summary>
    internal void OnClosed() => _closed = true;

    /// <summary>Returns unsent blocks to the pool once nothing can use them anymore.</summary>
    internal void ReleaseBlocks()
    {
        BlockSegment.ReturnChain(_head);
        _head = _tail = null;
        _unflushed = 0;
    }

    private BlockSegment Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var needed = Math.Max(sizeHint, 1);
        if (_tail is not null && _tail.Free >= needed)
        {
            return _tail;
        }

        var block = BlockSegment.Rent(needed, 0);
        if (_tail is null)
        {
            _head = block;
            _headSent = 0;
        }
        else
        {
            _tail.Append(block);
        }

        _tail = block;
        return block;
    }

    /// <returns>true when nothing is left to send (all sent, or the connection is gone).</returns>
    private bool SendWithoutBlocking()
    {
        while (_head is not null)
        {
            if (_closed)
            {
                ReleaseBlocks();
                return true;
            }

            var pending = _head.Written(_headSent);
            if (pending.Length > 0)
            {
                int sent;
                SocketError error;
                try
                {
                    sent = _socket.Send(pending.Span, SocketFlags.None, out error);
                }
                catch (ObjectDisposedException)
                {
                    sent = 0;
                    error = SocketError.OperationAborted;
                }

                if (error == SocketError.WouldBlock)
                {
                    return false;
                }

                if (error != SocketError.Success)
                {
                    _closed = true;
                    continue;
                }

                _headSent += sent;
                _unflushed -= sent;
                if (sent < pending.Length)
                {
                    continue;
                }
            }

            if (ReferenceEquals(_head, _tail))
            {
                // Everything sent: give the block back rather than keep 4 KB per idle connection.
                ReleaseBlocks();
                return true;
            }

            var next = _head.NextBlock!;
            _head.Return();
            _head = next;
            _headSent = 0;
        }

        return true;
    }

    private async ValueTask<FlushResult> SendRestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var pending = _head!.Written(_headSent);
                var sent = await _socket.SendAsync(pending, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                _headSent += sent;
                _unflushed -= sent;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                _closed = true;
            }

            if (SendWithoutBlocking())
            {
                return new FlushResult(isCanceled: false, isCompleted: _closed);
            }
        }
    }

    private async Task FinishAsync()
    {
        try
        {
            while (!SendWithoutBlocking())
            {
                var sent = await _socket.SendAsync(_head!.Written(_headSent), SocketFlags.None).ConfigureAwait(false);
                _headSent += sent;
                _unflushed -= sent;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _closed = true;
        }

        Finish(graceful: true);
    }

    private void Finish(bool graceful)
    {
        ReleaseBlocks();
        if (graceful && !_closed)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already closed by the peer or an abort: nothing left to tell it.
            }
        }
    }
}
