using System.Threading.Channels;
using AccessLayer.Client.Strategies;
using AccessLayer.Client.Transport;

namespace AccessLayer.Client.Internal;

/// <summary>
/// Happy-Eyeballs connects (RFC 8305, docs/sdk.md "Connection establishment"): the candidates' transports are
/// opened in order, the next one when the previous has run alone for the attempt delay, has failed, or the
/// client asks for another; each has its own connect timeout. Connected transports are handed out in the
/// order they connected; whatever is not taken when the race is disposed is closed.
/// While a call is owed and nothing has answered (docs/sdk.md "Reconnect"), fresh attempts follow every
/// <see cref="FreshConnectAttempts.Interval"/> until the first attempt's connect timeout, at most
/// <see cref="FreshConnectAttempts.MaxOpen"/> open at once (a fresh one closes the oldest).
/// </summary>
internal sealed class MlpConnectionRace : IAsyncDisposable
{
    private readonly IMlpTransportFactory _factory;
    private readonly IReadOnlyList<ConnectCandidate> _candidates;
    private readonly TimeSpan _attemptDelay;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeProvider _time;
    private readonly FreshConnectAttempts? _fresh;
    private readonly Func<bool> _owed;
    private readonly CancellationTokenSource _cancel;
    private readonly Channel<(ConnectCandidate Candidate, IMlpTransport Transport)> _connected = Channel.CreateUnbounded<(ConnectCandidate, IMlpTransport)>();
    private readonly Lock _lock = new();
    private readonly List<Task> _attempts = [];
    private readonly List<CancellationTokenSource> _closers = [];
    private readonly LinkedList<CancellationTokenSource> _open = [];
    private readonly TaskCompletionSource _answeredSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _kick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _driver = Task.CompletedTask;
    private long _startedAt;
    private int _started;
    private int _finished;
    private bool _driverDone;
    private bool _answered;
    private bool _handedOut;
    private bool _disposed;

    public MlpConnectionRace(IMlpTransportFactory factory, IReadOnlyList<ConnectCandidate> candidates, TimeSpan attemptDelay, TimeSpan attemptTimeout, TimeProvider time, CancellationToken cancellationToken, FreshConnectAttempts? fresh = null, Func<bool>? owed = null)
    {
        _factory = factory;
        _candidates = candidates;
        _attemptDelay = attemptDelay;
        _attemptTimeout = attemptTimeout;
        _time = time;
        _fresh = fresh is { Enabled: true } && owed is not null ? fresh : null;
        _owed = owed ?? (static () => false);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>Why the attempts that failed failed, in the order they failed.</summary>
    public List<Exception> Failures { get; } = [];

    public void Start()
    {
        _startedAt = _time.GetTimestamp();
        if (_candidates.Count == 0)
            _connected.Writer.TryComplete();
        else
            _driver = Task.Run(DriveAsync, CancellationToken.None);
    }

    /// <summary>The next transport that connected, or null when every attempt has failed.</summary>
    public async Task<(ConnectCandidate Candidate, IMlpTransport Transport)?> NextAsync()
    {
        var again = _handedOut;
        _handedOut = true;
        if (_connected.Reader.TryRead(out var ready))
            return ready;
        // Asked again (the last one's handshake failed) and nothing is waiting: another place now, not after the attempt delay.
        if (again)
            Kick();
        try
        {
            return await _connected.Reader.ReadAsync(_cancel.Token).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private void Kick()
    {
        lock (_lock)
            _kick.TrySetResult();
    }

    private async Task DriveAsync()
    {
        try
        {
            if (await FirstPassAsync().ConfigureAwait(false) && _fresh is not null)
                await FreshAttemptsAsync(_fresh).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _driverDone = true;
                CompleteWhenDone();
            }
        }
    }

    /// <summary>Every candidate once, staggered; false when the race was cancelled meanwhile.</summary>
    private async Task<bool> FirstPassAsync()
    {
        for (var i = 0; i < _candidates.Count && !_cancel.IsCancellationRequested; i++)
        {
            TaskCompletionSource kick;
            lock (_lock)
            {
                kick = NextKick();
                StartAttempt(_candidates[i], _attemptTimeout);
            }

            if (i == _candidates.Count - 1)
                break;
            try
            {
                // The timer exists before the attempt can fail, so a fake clock advanced meanwhile moves it.
                await Task.WhenAny(Task.Delay(_attemptDelay, _time, _cancel.Token), kick.Task).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return !_cancel.IsCancellationRequested;
    }

    /// <summary>
    /// While nothing has answered (no attempt connected, none was refused) and a call is owed: a fresh attempt every interval, cycling
    /// through the candidates, until the first attempt's connect timeout; each ends with it at the latest.
    /// </summary>
    private async Task FreshAttemptsAsync(FreshConnectAttempts fresh)
    {
        var next = 0;
        while (true)
        {
            var interval = fresh.Interval;
            if (_attemptTimeout - _time.GetElapsedTime(_startedAt) < 1.5 * interval)
                return; // a fresh attempt would live less than half an interval: the next connect starts its own
            try
            {
                // The timer exists before an attempt can answer, so a fake clock advanced meanwhile moves it.
                await Task.WhenAny(Task.Delay(interval, _time, _cancel.Token), _answeredSignal.Task).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (_answeredSignal.Task.IsCompleted || _cancel.IsCancellationRequested)
                return;
            if (!_owed() || !fresh.TryTake())
                continue;
            CancellationTokenSource? oldest = null;
            lock (_lock)
            {
                if (_answered || _disposed)
                    return;
                if (_open.Count >= fresh.MaxOpen && _open.First is { } first)
                {
                    oldest = first.Value;
                    _open.RemoveFirst();
                }
            }

            // The oldest is closed before the fresh one opens (never more than MaxOpen at once); outside the lock, since its own
            // failure handling takes it.
            oldest?.Cancel();
            lock (_lock)
            {
                if (_answered || _disposed)
                    return;
                StartAttempt(_candidates[next++ % _candidates.Count], _attemptTimeout - _time.GetElapsedTime(_startedAt));
            }
        }
    }

    private TaskCompletionSource NextKick()
    {
        if (_kick.Task.IsCompleted)
            _kick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _kick;
    }

    /// <summary>Under the lock.</summary>
    private void StartAttempt(ConnectCandidate candidate, TimeSpan timeout)
    {
        var closer = new CancellationTokenSource();
        _closers.Add(closer);
        var node = _open.AddLast(closer);
        _started++;
        _attempts.Add(AttemptAsync(candidate, timeout, closer, node));
    }

    private async Task AttemptAsync(ConnectCandidate candidate, TimeSpan timeout, CancellationTokenSource closer, LinkedListNode<CancellationTokenSource> node)
    {
        await Task.Yield();
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token, deadline.Token, closer.Token);
        IMlpTransport? transport = null;
        try
        {
            transport = candidate.Address is not null && _factory is IMlpAddressTransportFactory byAddress
                ? await byAddress.ConnectAsync(candidate.Endpoint, candidate.Address, linked.Token).ConfigureAwait(false)
                : await _factory.ConnectAsync(candidate.Endpoint, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (closer.IsCancellationRequested && !_cancel.IsCancellationRequested)
        {
            Fail(node, new TimeoutException($"Could not reach {candidate}: closed for a fresh attempt."), answered: false);
            return;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_cancel.IsCancellationRequested)
        {
            Fail(node, new TimeoutException($"Could not reach {candidate} within {timeout.TotalMilliseconds:0} ms."), answered: false);
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Refused, unreachable, reset: the path answers (or the race was cancelled); no fresh attempts after it.
            Fail(node, ex, answered: true);
            return;
        }

        bool keep;
        lock (_lock)
        {
            Answered();
            Remove(node);
            keep = !_disposed && _connected.Writer.TryWrite((candidate, transport));
            _finished++;
            CompleteWhenDone();
        }

        if (!keep)
            await transport.DisposeAsync().ConfigureAwait(false);
    }

    private void Fail(LinkedListNode<CancellationTokenSource> node, Exception failure, bool answered)
    {
        lock (_lock)
        {
            if (answered)
                Answered();
            Remove(node);
            Failures.Add(failure);
            _kick.TrySetResult();
            _finished++;
            CompleteWhenDone();
        }
    }

    /// <summary>Under the lock: an attempt connected or the path answered it (refused, unreachable): no fresh attempts after it.</summary>
    private void Answered()
    {
        _answered = true;
        _answeredSignal.TrySetResult();
    }

    private void Remove(LinkedListNode<CancellationTokenSource> node)
    {
        if (node.List is not null)
            _open.Remove(node);
    }

    /// <summary>Under the lock: no attempt will start any more and every one started has ended.</summary>
    private void CompleteWhenDone()
    {
        if (_driverDone && _finished == _started)
            _connected.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        Task[] attempts;
        lock (_lock)
        {
            _disposed = true;
            attempts = [.. _attempts];
        }

        await _cancel.CancelAsync().ConfigureAwait(false);
        await _driver.ConfigureAwait(false);
        lock (_lock)
            attempts = [.. _attempts];
        await Task.WhenAll(attempts).ConfigureAwait(false);
        _connected.Writer.TryComplete();
        while (_connected.Reader.TryRead(out var unused))
            await unused.Transport.DisposeAsync().ConfigureAwait(false);
        foreach (var closer in _closers)
            closer.Dispose();
        _cancel.Dispose();
    }
}
