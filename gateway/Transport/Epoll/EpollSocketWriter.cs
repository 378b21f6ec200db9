using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// A <see cref="PipeWriter"/> straight over an fd. Writes go into pooled blocks; FlushAsync sends them
/// with non-blocking send (MSG_NOSIGNAL) and completes at once when the kernel took everything (the
/// common case), otherwise it stays pending until the loop reports the socket writable again and the
/// rest is sent: that is the back-pressure. A writer with nothing unsent holds no block.
/// Not thread-safe, like any PipeWriter: one producer, no writes while a flush is pending.
/// </summary>
internal sealed class EpollSocketWriter : PipeWriter, IValueTaskSource, IThreadPoolWorkItem
{
    private readonly EpollConnection _connection;
    private BlockSegment? _head;
    private BlockSegment? _tail;
    private int _headSent;
    private long _unflushed;
    private bool _completed;
    private volatile bool _closed;

    // Shared with the loop thread: guarded by lock (this).
    // Made on the first flush the kernel holds back; an idle connection's writer never has one.
    private ReadinessWaiter? _waiter;
    private bool _writable = true;
    private bool _waiting;

    public EpollSocketWriter(EpollConnection connection) => _connection = connection;

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

        return SendRestAsync();
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

    /// <summary>Loop thread: the socket can take bytes again (or hung up); resume a pending flush.</summary>
    internal void OnWritable(bool inline)
    {
        lock (this)
        {
            _writable = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Wake(inline);
    }

    /// <summary>The connection is gone: drop what is unsent, later flushes report completion.</summary>
    internal void OnClosed()
    {
        _closed = true;
        OnWritable(inline: false);
    }

    /// <summary>Returns unsent blocks to the pool once nothing can use them anymore.</summary>
    internal void ReleaseBlocks()
    {
        BlockSegment.ReturnChain(_head);
        _head = _tail = null;
        _unflushed = 0;
    }

    void IValueTaskSource.GetResult(short token) => _waiter!.Source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _waiter!.Source.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _waiter!.Source.OnCompleted(continuation, state, token, flags);

    void IThreadPoolWorkItem.Execute()
    {
        _waiter!.Source.RunContinuationsAsynchronously = false;
        _waiter.Source.SetResult(0);
    }

    private void Wake(bool inline)
    {
        if (inline)
        {
            _waiter!.Source.RunContinuationsAsynchronously = false;
            _waiter.Source.SetResult(0);
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
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
        if (_connection.IsTls)
        {
            return SendTlsWithoutBlocking();
        }

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
                var sent = _connection.Send(pending.Span, out var errno);
                if (sent < 0)
                {
                    if (!GoOnAfterFailedSend(errno))
                    {
                        return false;
                    }

                    continue;
                }

                _headSent += (int)sent;
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

    /// <summary>
    /// After a send that failed: true to go round again (interrupted; or the connection is now closed, which the loop
    /// sees; or a writable edge came in since the send, or was stale), false to wait for the next writable edge.
    /// </summary>
    private bool GoOnAfterFailedSend(int errno)
    {
        if (errno == LinuxNative.EINTR)
        {
            return true;
        }

        if (errno != LinuxNative.EAGAIN)
        {
            _closed = true;
            return true;
        }

        lock (this)
        {
            if (!_writable)
            {
                return false;
            }

            // An edge came in since (or was stale): try once more before waiting for the next one.
            _writable = false;
            return true;
        }
    }

    /// <summary>
    /// The TLS variant: each SSL_write takes up to one full record's worth (16 KB), gathered from several blocks when
    /// the head holds less, so a hot flow gets full-size records rather than one record per 4 KB block. A write
    /// OpenSSL refused (EAGAIN) is retried with the same bytes from the same position, as SSL_write requires
    /// (the gather buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
    /// </summary>
    private bool SendTlsWithoutBlocking()
    {
        byte[]? gather = null;
        try
        {
            while (_head is not null)
            {
                if (_closed)
                {
                    ReleaseBlocks();
                    return true;
                }

                var pending = _head.Written(_headSent);
                var chunk = pending.Span;
                if (pending.Length < Tls.TlsSession.LargeRecord && !ReferenceEquals(_head, _tail))
                {
                    gather ??= ArrayPool<byte>.Shared.Rent(Tls.TlsSession.LargeRecord);
                    chunk = gather.AsSpan(0, Gather(gather.AsSpan(0, Tls.TlsSession.LargeRecord)));
                }

                if (chunk.Length == 0)
                {
                    Consume(0);
                    continue;
                }

                var sent = _connection.Send(chunk, out var errno);
                if (sent < 0)
                {
                    if (!GoOnAfterFailedSend(errno))
                    {
                        return false;
                    }

                    continue;
                }

                Consume((int)sent);
            }

            return true;
        }
        finally
        {
            if (gather is not null)
            {
                ArrayPool<byte>.Shared.Return(gather);
            }
        }
    }

    /// <summary>Copies unsent bytes from the head on into <paramref name="into"/>; the count copied.</summary>
    private int Gather(Span<byte> into)
    {
        var copied = 0;
        var from = _headSent;
        for (var block = _head; block is not null && copied < into.Length; block = block.NextBlock)
        {
            var written = block.Written(from).Span;
            var take = Math.Min(written.Length, into.Length - copied);
            written[..take].CopyTo(into[copied..]);
            copied += take;
            from = 0;
        }

        return copied;
    }

    /// <summary>Drops <paramref name="sent"/> bytes from the head on, returning emptied blocks; releases all once everything is sent.</summary>
    private void Consume(int sent)
    {
        _unflushed -= sent;
        while (_head is not null)
        {
            var available = _head.End - _headSent;
            if (sent < available)
            {
                _headSent += sent;
                return;
            }

            sent -= available;
            if (ReferenceEquals(_head, _tail))
            {
                ReleaseBlocks();
                return;
            }

            var next = _head.NextBlock!;
            _head.Return();
            _head = next;
            _headSent = 0;
            if (sent == 0 && _head.End > 0)
            {
                return;
            }
        }
    }

    /// <summary>Completes when the loop saw the socket writable after the last EAGAIN (or the connection closed).</summary>
    private ValueTask WaitWritableAsync()
    {
        lock (this)
        {
            if (_writable || _closed)
            {
                return ValueTask.CompletedTask;
            }

            (_waiter ??= new ReadinessWaiter()).Source.Reset();
            _waiting = true;
            return new ValueTask(this, _waiter!.Source.Version);
        }
    }

    private async ValueTask<FlushResult> SendRestAsync()
    {
        do
        {
            await WaitWritableAsync().ConfigureAwait(false);
        }
        while (!SendWithoutBlocking());

        return new FlushResult(isCanceled: false, isCompleted: _closed);
    }

    private async Task FinishAsync()
    {
        do
        {
            await WaitWritableAsync().ConfigureAwait(false);
        }
        while (!SendWithoutBlocking());

        Finish(graceful: true);
    }

    private void Finish(bool graceful)
    {
        ReleaseBlocks();
        if (graceful && !_closed)
        {
            _connection.ShutdownSend();
        }
    }
}
