namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The batches one forward link has out that the peer has not answered, bounded in bytes and in count. A batch always
/// goes when nothing is out, so one larger than the byte bound still passes, alone. Bounding bytes rather than batches
/// lets a trickle of small batches flow without waiting for each answer (a late answer used to hold every message
/// behind it, on a link that carried a few hundred bytes), while full batches under load still stop at two, as before.
/// One sender: the peer's forwarder sends one batch at a time, so at most one take waits.
/// </summary>
internal sealed class ForwardWindow(long maxBytes, int maxBatches)
{
    private readonly Queue<int> _sizes = new();
    private long _bytes;
    private bool _closed;
    private TaskCompletionSource<bool>? _waiter;
    private int _waiterSize;

    public int Unanswered
    {
        get
        {
            lock (_sizes)
            {
                return _sizes.Count;
            }
        }
    }

    /// <summary>Room for a batch of <paramref name="size"/> bytes: true once it is counted out, false when the link closed first.</summary>
    public ValueTask<bool> TakeAsync(int size, CancellationToken cancellationToken)
    {
        Task<bool> wait;
        lock (_sizes)
        {
            if (_closed)
            {
                return ValueTask.FromResult(false);
            }

            if (Fits(size))
            {
                Add(size);
                return ValueTask.FromResult(true);
            }

            if (_waiter is not null)
            {
                throw new InvalidOperationException("One sender at a time takes room in a forward window.");
            }

            _waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiterSize = size;
            wait = _waiter.Task;
        }

        return WaitAsync(wait, cancellationToken);
    }

    /// <summary>The peer answered the oldest <paramref name="count"/> batches; false when it answered more than were out (the link is broken).</summary>
    public bool Answered(int count)
    {
        TaskCompletionSource<bool>? admitted = null;
        lock (_sizes)
        {
            if (count > _sizes.Count)
            {
                return false;
            }

            for (var i = 0; i < count; i++)
            {
                _bytes -= _sizes.Dequeue();
            }

            if (_waiter is not null && Fits(_waiterSize))
            {
                Add(_waiterSize);
                admitted = _waiter;
                _waiter = null;
            }
        }

        admitted?.TrySetResult(true);
        return true;
    }

    /// <summary>The link is gone: a waiting take ends with false, and so does every later one.</summary>
    public void Close()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_sizes)
        {
            _closed = true;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult(false);
    }

    private bool Fits(int size) => _sizes.Count == 0 || (_sizes.Count < maxBatches && _bytes + size <= maxBytes);

    private void Add(int size)
    {
        _sizes.Enqueue(size);
        _bytes += size;
    }

    private async ValueTask<bool> WaitAsync(Task<bool> wait, CancellationToken cancellationToken)
    {
        try
        {
            return await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Only a stopping forwarder cancels, and its link goes with it: room admitted at the same moment is not given back.
            lock (_sizes)
            {
                if (_waiter?.Task == wait)
                {
                    _waiter = null;
                }
            }

            throw;
        }
    }
}
