using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// A <see cref="PipeReader"/> straight over an fd registered edge-triggered with an <see cref="EpollLoop"/>.
/// The loop only sets "readable" and wakes a waiting consumer; the consumer's own thread rents blocks
/// and drains the socket with non-blocking recv until it would block, which is exactly what
/// edge-triggered epoll requires before the next edge. An idle connection holds no block.
/// The block chain is touched only by the consumer; the loop and CancelPendingRead touch the flags under the lock.
/// </summary>
internal sealed class EpollSocketReader : PipeReader, IValueTaskSource<ReadResult>, IThreadPoolWorkItem
{
    private const int MaxReceivesPerPull = 16;
    private const int MinFreeToReuseTail = 512;

    private readonly EpollConnection _connection;
    // Made on the first ReadAsync that waits; a parked connection never has one.
    private ReadinessWaiter? _waiter;

    private BlockSegment? _head;
    private BlockSegment? _tail;
    private int _headIndex;
    private bool _examinedAll;
    private bool _peerClosed;
    private bool _completed;
    private Exception? _error;

    // Sticky, set by the loop on EPOLLRDHUP/HUP/ERR: a short read no longer proves the socket drained
    // (the FIN or error may be queued behind the bytes, and its edge may already have been consumed).
    private volatile bool _hangup;

    // Shared with the loop thread and CancelPendingRead: guarded by lock (this).
    private bool _waiting;
    private bool _readable = true;
    private bool _cancelPending;
    private bool _tokenCanceled;

    // Armed by TryPark instead of a pending ReadAsync (guarded by the lock while set, taken by whoever wakes it).
    private IInputReadyHandler? _parked;

    public EpollSocketReader(EpollConnection connection) => _connection = connection;

    private ReadOnlySequence<byte> Buffered => _head is null
        ? ReadOnlySequence<byte>.Empty
        : new ReadOnlySequence<byte>(_head, _headIndex, _tail!, _tail!.End);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            bool pull;
            lock (this)
            {
                if (TryGetResult(out var ready))
                {
                    return new ValueTask<ReadResult>(ready);
                }

                pull = _readable;
                _readable = false;
            }

            if (pull)
            {
                Pull();
            }

            lock (this)
            {
                if (TryGetResult(out var ready))
                {
                    return new ValueTask<ReadResult>(ready);
                }

                if (_readable)
                {
                    continue;
                }

                // Nothing until the next edge: the loop wakes us (no syscall to arm anything).
                (_waiter ??= new ReadinessWaiter()).Source.Reset();
                _waiting = true;
            }

            if (cancellationToken.CanBeCanceled)
            {
                _waiter!.Registration = cancellationToken.UnsafeRegister(static state => ((EpollSocketReader)state!).OnTokenCanceled(), this);
            }

            return new ValueTask<ReadResult>(this, _waiter!.Source.Version);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        lock (this)
        {
            if (TryGetResult(out result))
            {
                return true;
            }

            if (!_readable)
            {
                return false;
            }

            _readable = false;
        }

        Pull();
        lock (this)
        {
            return TryGetResult(out result);
        }
    }

    /// <summary>
    /// Arms <paramref name="handler"/> for the next input instead of a pending read (<see cref="IParkedInputFeature"/>):
    /// false when a <see cref="TryRead"/> now could return something (nothing is armed then). Consumer thread only.
    /// </summary>
    internal bool TryPark(IInputReadyHandler handler)
    {
        lock (this)
        {
            if (_readable || _cancelPending || _peerClosed || _error is not null || (_head is not null && !_examinedAll))
            {
                return false;
            }

            _parked = handler;
            _waiting = true;
            return true;
        }
    }

    /// <summary>Whether a handler is armed and no read was ever awaited (no value-task source made): an idle, parked connection.</summary>
    internal bool IsParked
    {
        get
        {
            lock (this)
            {
                return _waiting && _parked is not null && _waiter is null;
            }
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_head is null)
        {
            return;
        }

        var tail = _tail!;
        _examinedAll = ReferenceEquals(examined.GetObject(), tail) && examined.GetInteger() == tail.End;
        if (consumed.GetObject() is not BlockSegment consumedSegment)
        {
            return;
        }

        while (!ReferenceEquals(_head, consumedSegment))
        {
            var next = _head!.NextBlock ?? throw new InvalidOperationException("The consumed position is not in the buffer this reader handed out.");
            _head.Return();
            _head = next;
        }

        _headIndex = consumed.GetInteger();
        while (_headIndex == _head.End && !ReferenceEquals(_head, tail))
        {
            var next = _head.NextBlock!;
            _head.Return();
            _head = next;
            _headIndex = 0;
        }

        if (ReferenceEquals(_head, tail) && _headIndex == tail.End)
        {
            // Everything consumed: an idle connection keeps no block.
            tail.Return();
            _head = _tail = null;
            _headIndex = 0;
            _examinedAll = false;
        }
    }

    public override void CancelPendingRead()
    {
        lock (this)
        {
            _cancelPending = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Wake(inline: false);
    }

    /// <summary>The application completed the reader: nothing reads the socket through it anymore.</summary>
    internal bool IsCompleted => _completed;

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        BlockSegment.ReturnChain(_head);
        _head = _tail = null;
    }

    /// <summary>Loop thread: the socket turned readable, hung up or failed; wake the consumer if it waits.</summary>
    internal void OnReadable(bool inline, bool hangup)
    {
        if (hangup)
        {
            _hangup = true;
        }

        lock (this)
        {
            _readable = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Wake(inline);
    }

    /// <summary>The connection was aborted or disposed: a waiting read ends now.</summary>
    internal void OnClosed()
    {
        lock (this)
        {
            _readable = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Wake(inline: false);
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        var waiter = _waiter!;
        waiter.Source.GetResult(token);
        waiter.Registration.Dispose();
        waiter.Registration = default;
        bool pull;
        lock (this)
        {
            if (_tokenCanceled)
            {
                _tokenCanceled = false;
                throw new OperationCanceledException("The read was canceled by its token.");
            }

            pull = _readable;
            _readable = false;
        }

        if (pull)
        {
            Pull();
        }

        lock (this)
        {
            if (TryGetResult(out var result))
            {
                return result;
            }
        }

        // Readable turned out empty (a spurious edge): hand back what is buffered; the consumer reads again.
        return new ReadResult(Buffered, isCanceled: false, isCompleted: false);
    }

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _waiter!.Source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _waiter!.Source.OnCompleted(continuation, state, token, flags);

    /// <summary>Thread pool: the consumer continues here rather than on the loop thread.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        if (Interlocked.Exchange(ref _parked, null) is { } parked)
        {
            parked.OnInputReady();
            return;
        }

        _waiter!.Source.RunContinuationsAsynchronously = false;
        _waiter.Source.SetResult(0);
    }

    private void OnTokenCanceled()
    {
        lock (this)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            _tokenCanceled = true;
        }

        Wake(inline: false);
    }

    private void Wake(bool inline)
    {
        if (inline)
        {
            // Loop thread, inline mode: the consumer runs right here (mosquitto-like, no hop).
            if (Interlocked.Exchange(ref _parked, null) is { } parked)
            {
                parked.OnInputReady();
                return;
            }

            _waiter!.Source.RunContinuationsAsynchronously = false;
            _waiter.Source.SetResult(0);
            return;
        }

        // Queued as this object itself: no allocation per wake-up.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Must hold the lock. A result is ready when canceled, failed, new bytes are in, or the peer closed.</summary>
    private bool TryGetResult(out ReadResult result)
    {
        if (_cancelPending)
        {
            _cancelPending = false;
            result = new ReadResult(Buffered, isCanceled: true, isCompleted: _peerClosed);
            return true;
        }

        if (_error is not null)
        {
            throw _error;
        }

        if ((_head is not null && !_examinedAll) || _peerClosed)
        {
            result = new ReadResult(Buffered, isCanceled: false, isCompleted: _peerClosed);
            return true;
        }

        result = default;
        return false;
    }

    /// <summary>Drains what the socket holds without blocking; records end of stream or failure. Consumer thread only.</summary>
    private void Pull()
    {
        for (var i = 0; i < MaxReceivesPerPull; i++)
        {
            var fresh = _tail is null || _tail.Free < MinFreeToReuseTail;
            var block = fresh ? BlockSegment.Rent(BlockSegment.BlockSize, _tail is null ? 0 : _tail.RunningIndex + _tail.End) : _tail!;
            var space = block.Free;
            var received = _connection.Receive(block.FreeSpan, out var errno);
            if (received > 0)
            {
                block.Commit((int)received);
                if (fresh)
                {
                    if (_tail is null)
                    {
                        _head = block;
                        _headIndex = 0;
                    }
                    else
                    {
                        _tail.Append(block);
                    }

                    _tail = block;
                }

                _examinedAll = false;
                if (received < space && !_hangup && !_connection.IsTls)
                {
                    // A short read drained the socket: the next byte (or FIN) to arrive raises a new edge.
                    return;
                }

                continue;
            }

            if (fresh)
            {
                block.Return();
            }

            if (received == 0)
            {
                _peerClosed = true;
                return;
            }

            if (errno == LinuxNative.EAGAIN)
            {
                return;
            }

            if (errno == LinuxNative.EINTR)
            {
                continue;
            }

            _error = _connection.AbortReason ?? (Exception?)_connection.Tls?.Failure ?? SocketErrors.ToException(LinuxNative.ToSocketError(errno));
            return;
        }

        // Still more: the next ReadAsync drains further rather than this one holding the thread.
        lock (this)
        {
            _readable = true;
        }
    }
}
