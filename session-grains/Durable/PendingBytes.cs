namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// A byte budget for operations waiting on Redis: callers acquire their operation's weight before
/// queueing it and the committer releases it once Redis answered. First come, first served; an
/// operation larger than the whole budget is let in alone, so nothing waits forever.
/// </summary>
internal sealed class PendingBytes(long capacity)
{
    private readonly Lock _lock = new();
    private readonly Queue<Waiter> _waiters = new();
    private long _used;

    public long Used
    {
        get
        {
            lock (_lock)
            {
                return _used;
            }
        }
    }

    public ValueTask AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                _used += bytes;
                return ValueTask.CompletedTask;
            }

            cancellationToken.ThrowIfCancellationRequested();
            waiter = new Waiter(bytes);
            _waiters.Enqueue(waiter);
        }

        waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) => ((PendingBytes)((object[])state!)[0]).Cancel((Waiter)((object[])state!)[1], token), new object[] { this, waiter });
        return new ValueTask(waiter.Granted.Task);
    }

    public void Release(long bytes)
    {
        List<Waiter>? granted;
        lock (_lock)
        {
            _used -= bytes;
            granted = GrantLocked();
        }

        Complete(granted);
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        List<Waiter>? granted;
        lock (_lock)
        {
            if (waiter.Done)
            {
                return;
            }

            waiter.Done = true;
            // It may have held back smaller ones behind it.
            granted = GrantLocked();
        }

        waiter.Granted.TrySetCanceled(token);
        Complete(granted);
    }

    private List<Waiter>? GrantLocked()
    {
        List<Waiter>? granted = null;
        while (_waiters.TryPeek(out var next))
        {
            if (next.Done)
            {
                _waiters.Dequeue();
                continue;
            }

            if (!Fits(next.Bytes))
            {
                break;
            }

            _waiters.Dequeue();
            next.Done = true;
            _used += next.Bytes;
            (granted ??= []).Add(next);
        }

        return granted;
    }

    private bool Fits(long bytes) => _used == 0 || _used + bytes <= capacity;

    private static void Complete(List<Waiter>? granted)
    {
        if (granted is null)
        {
            return;
        }

        foreach (var waiter in granted)
        {
            waiter.Registration.Dispose();
            waiter.Granted.TrySetResult();
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Granted or cancelled; guarded by the budget's lock.</summary>
        public bool Done { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
