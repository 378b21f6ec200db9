namespace AccessLayer.Client.Internal;

/// <summary>
/// Calls that wait for the long link (it is coming back, or a connect is under way: docs/sdk.md "Short-connection
/// compensation") wake when a link is published or a connect or the reconnect loop ends, and look again.
/// </summary>
internal sealed class MlpLinkChanges(MlpClient client)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting;

    /// <summary>Calls waiting for a link now: the reconnect loop keeps its attempts close while the app is owed answers.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Waits (within <paramref name="timeout"/>) until a link is up; null when none is coming any more.</summary>
    public async Task<MlpLink?> WaitForLinkAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            return await WaitCoreAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private async Task<MlpLink?> WaitCoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = client.Options.TimeProvider;
        var started = time.GetTimestamp();
        while (true)
        {
            Task changed;
            lock (_lock)
                changed = _changed.Task;
            if (client.CurrentLink is { IsOpen: true } link)
                return link;
            if (!client.LinkComing)
                return null;
            var remaining = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - time.GetElapsedTime(started);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
                throw new TimeoutException($"No link came up within {timeout.TotalMilliseconds:0} ms.");
            await changed.WaitAsync(remaining, time, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Signal()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
