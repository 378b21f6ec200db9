namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>
/// An append-only, thread-safe list that tests wait on: producers (process reader threads)
/// add items, consumers wait, bounded in time, until the items satisfy a condition.
/// </summary>
internal sealed class EventLog<T>
{
    private readonly object _gate = new();
    private readonly List<T> _items = [];
    private TaskCompletionSource _changed = NewSignal();
    private bool _completed;

    public int Count
    {
        get { lock (_gate) { return _items.Count; } }
    }

    /// <summary>True once the producer said no more items will come (the process exited).</summary>
    public bool IsCompleted
    {
        get { lock (_gate) { return _completed; } }
    }

    public void Add(T item)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _items.Add(item);
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    public void Complete()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _completed = true;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    public IReadOnlyList<T> Snapshot()
    {
        lock (_gate) { return [.. _items]; }
    }

    /// <summary>
    /// Waits until <paramref name="done"/> holds for the items so far and returns them.
    /// Fails fast once the log is completed without the condition holding.
    /// </summary>
    public async Task<IReadOnlyList<T>> WaitUntilAsync(Func<IReadOnlyList<T>, bool> done, TimeSpan timeout, Func<string> describe)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (done(_items)) return [.. _items];
                if (_completed) throw new InvalidOperationException($"{describe()} (the source ended first)");
                changed = _changed.Task;
            }
            var left = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{describe()} (after {timeout.TotalSeconds:0.#} s)");
            try
            {
                await changed.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                // Checked once more at the top: the condition may hold at the very deadline.
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
