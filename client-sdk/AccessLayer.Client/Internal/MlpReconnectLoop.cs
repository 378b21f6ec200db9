using AccessLayer.Client.Strategies;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Internal;

/// <summary>
/// Brings a lost link back (docs/sdk.md "Reconnect"): at once after the client found the link dead,
/// after a drain or redirect GOAWAY and after a network change; otherwise after a
/// <see cref="ReconnectBackoff"/> wait, and after every failed attempt. One loop at a time.
/// </summary>
internal sealed class MlpReconnectLoop(MlpClient client) : IDisposable
{
    private readonly ReconnectBackoff _backoff = new(client.Options.WeakNetwork);
    private readonly TimeProvider _time = client.Options.TimeProvider;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _run;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private long _unansweredSince;
    private long _outageStartedAt;

    public bool Running
    {
        get
        {
            lock (_lock)
                return !_loop.IsCompleted;
        }
    }

    /// <summary>
    /// Timestamp (on the client's clock) of the first of the reconnect attempts in a row that got no answer at all; 0 when the last
    /// attempt was answered or none failed. While set the path looks down: calls wait for the link rather than cross it on the fallback.
    /// </summary>
    public long UnansweredSince => Interlocked.Read(ref _unansweredSince);

    /// <summary>Timestamp of the start of the latest reconnect loop (the link was lost then).</summary>
    public long OutageStartedAt => Interlocked.Read(ref _outageStartedAt);

    public void Start(bool immediate, TimeSpan retryAfter)
    {
        lock (_lock)
        {
            if (!_loop.IsCompleted)
            {
                if (immediate)
                    _wake.TrySetResult();
                return;
            }

            _run?.Dispose();
            _run = new CancellationTokenSource();
            Interlocked.Exchange(ref _unansweredSince, 0);
            Interlocked.Exchange(ref _outageStartedAt, _time.GetTimestamp());
            client.FreshAttempts.Reset();
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var token = _run.Token;
            _loop = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(immediate, retryAfter, token).ConfigureAwait(false);
                }
                finally
                {
                    // Calls waiting for the link look again (the loop gave up, or the link is back).
                    _ = Task.Run(client.SignalLinkChanged, CancellationToken.None);
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>Cuts a backoff wait short (the network changed) and starts the schedule over.</summary>
    public void WakeNow()
    {
        lock (_lock)
        {
            _backoff.Reset();
            _wake.TrySetResult();
        }
    }

    public async Task StopAsync()
    {
        Task loop;
        lock (_lock)
        {
            _run?.Cancel();
            loop = _loop;
        }

        await loop.ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_lock)
            _run?.Dispose();
    }

    private async Task RunAsync(bool immediate, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var first = true;
        var unanswered = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!(first && immediate))
            {
                TaskCompletionSource wake;
                TimeSpan delay;
                lock (_lock)
                {
                    wake = _wake;
                    // While fresh attempts pace the connects, the wait between two connects is no longer than their interval.
                    var fresh = client.FreshAttempts;
                    delay = _backoff.Next(first ? retryAfter : TimeSpan.Zero, unanswered, owed: client.LinkChanges.Waiting > 0, fresh.Available ? fresh.Interval : TimeSpan.Zero);
                }

                // The timer exists before anyone hears of it, so a fake clock advanced on the event moves it.
                var wait = Task.Delay(delay, _time, cancellationToken);
                client.OnReconnectScheduled(_backoff.Attempt, delay);
                try
                {
                    await Task.WhenAny(wait, wake.Task).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                lock (_lock)
                {
                    if (wake.Task.IsCompleted)
                        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            first = false;
            if (cancellationToken.IsCancellationRequested)
                return;
            try
            {
                await client.ReconnectOnceAsync(cancellationToken).ConfigureAwait(false);
                lock (_lock)
                    _backoff.Reset();
                Interlocked.Exchange(ref _unansweredSince, 0);
                return;
            }
            catch (MlpException ex) when (ex.Code is MlpErrorCode.AuthFailed or MlpErrorCode.SessionTakenOver)
            {
                // Retrying cannot help: the app must get a new token or decide to take the session back.
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                client.QualityModel.OnFailure();
                unanswered = ex is TimeoutException;
                if (unanswered)
                    Interlocked.CompareExchange(ref _unansweredSince, _time.GetTimestamp(), 0);
                else
                    Interlocked.Exchange(ref _unansweredSince, 0);
            }
        }
    }
}
