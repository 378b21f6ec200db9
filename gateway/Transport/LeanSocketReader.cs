using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// A <see cref="PipeReader"/> straight over a socket, no <see cref="Pipe"/> in between. While the
/// consumer waits with nothing new, only a zero-byte receive is pending (no buffer); when the socket
/// turns readable the consumer's own thread rents blocks and drains the socket without blocking.
/// The block chain is touched only by the consumer (ReadAsync/GetResult/AdvanceTo); the socket
/// callback and CancelPendingRead touch only the flags under the lock.
/// </summary>
internal sealed class LeanSocketReader : PipeReader, IValueTaskSource<ReadResult>
{
    private const int MaxReceivesPerPull = 16;
    private const int MinFreeToReuseTail = 512;

    private readonly LeanConnection _connection;
    private readonly Socket _socket;
    private ManualResetValueTaskSourceCore<ReadResult> _source;
    private ReadinessArgs? _readiness;
    private CancellationTokenRegistration _tokenRegistration;

    private BlockSegment? _head;
    private BlockSegment? _tail;
    private int _headIndex;
    private bool _examinedAll;
    private bool _peerClosed;
    private bool _completed;
    private Exception? _error;

    // Shared with the socket callback and CancelPendingRead: guarded by lock (this).
    private bool _waiting;
    private bool _receivePending;
    private bool _readable = true;
    private bool _cancelPending;
    private bool _tokenCanceled;

    public LeanSocketReader(LeanConnection connection, Socket socket)
    {
        _connection = connection;
        _socket = socket;
    }

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
                lock (this)
                {
                    if (TryGetResult(out var ready))
                    {
                        return new ValueTask<ReadResult>(ready);
                    }
                }
            }

            bool start;
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

                _source.Reset();
                _waiting = true;
                start = !_receivePending;
                _receivePending = true;
            }

            if (start && !StartWaitForReadable())
            {
                // Readable already: no wait, drain it now.
                lock (this)
                {
                    _receivePending = false;
                    _waiting = false;
                    _readable = true;
                }

                continue;
            }

            if (cancellationToken.CanBeCanceled)
            {
                _tokenRegistration = cancellationToken.UnsafeRegister(static state => ((LeanSocketReader)state!).OnTokenCanceled(), this);
            }

            return new ValueTask<ReadResult>(this, _source.Version);
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

        Signal(fromSocket: false);
    }

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

    /// <summary>The socket turned readable (or failed, or was closed): wake the consumer if it waits.</summary>
    internal void OnReadable()
    {
        lock (this)
        {
            _receivePending = false;
            _readable = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        Signal(fromSocket: true);
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

        Signal(fromSocket: false);
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        _source.GetResult(token);
        _tokenRegistration.Dispose();
        _tokenRegistration = default;
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

        // Readable turned out empty (rare): hand back what is buffered; the consumer simply reads again.
        return new ReadResult(Buffered, isCanceled: false, isCompleted: false);
    }

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

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

        Signal(fromSocket: false);
    }

    private void Signal(bool fromSocket)
    {
        // Socket callbacks already run on the thread pool, so the consumer may continue inline there;
        // anyone else (a canceller, an abort) must not have the consumer's loop run on its stack.
        _source.RunContinuationsAsynchronously = !fromSocket;
        _source.SetResult(default);
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

    /// <returns>false when the socket is readable already (the receive completed synchronously).</returns>
    private bool StartWaitForReadable()
    {
        var readiness = _readiness ??= new ReadinessArgs(this);
        try
        {
            return _socket.ReceiveAsync(readiness);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Drains what the socket holds without blocking; records end of stream or failure. Consumer thread only.</summary>
    private void Pull()
    {
        for (var i = 0; i < MaxReceivesPerPull; i++)
        {
            var fresh = _tail is null || _tail.Free < MinFreeToReuseTail;
            var block = fresh ? BlockSegment.Rent(BlockSegment.BlockSize, _tail is null ? 0 : _tail.RunningIndex + _tail.End) : _tail!;
            var space = block.Free;
            int received;
            SocketError error;
            try
            {
                received = _socket.Receive(block.FreeSpan, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                received = 0;
                error = SocketError.OperationAborted;
            }

            if (error == SocketError.Success && received > 0)
            {
                block.Commit(received);
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
                if (received < space)
                {
                    return;
                }

                continue;
            }

            if (fresh)
            {
                block.Return();
            }

            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error == SocketError.Success)
            {
                _peerClosed = true;
                return;
            }

            _error = _connection.AbortReason ?? LeanSocketErrors.ToException(error);
            return;
        }

        // Still more: the next ReadAsync drains further rather than this one holding the thread.
        lock (this)
        {
            _readable = true;
        }
    }
}
