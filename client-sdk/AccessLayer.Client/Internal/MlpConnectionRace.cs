using System.Threading.Channels;
using AccessLayer.Client.Strategies;
using AccessLayer.Client.Transport;

namespace AccessLayer.Client.Internal;

/// <summary>
/// Happy-Eyeballs connects (RFC 8305, docs/sdk.md "Connection establishment"): the candidates' transports are
/// opened in order, the next one when the previous has run alone for the attempt delay, has failed, or the
/// client asks for another; each has its own connect timeout. Connected transports are handed out in the
/// order they connected; whatever is not taken when the race is disposed is closed.
/// </summary>
internal sealed class MlpConnectionRace : IAsyncDisposable
{
    private readonly IMlpTransportFactory _factory;
    private readonly IReadOnlyList<ConnectCandidate> _candidates;
    private readonly TimeSpan _attemptDelay;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cancel;
    private readonly Channel<(ConnectCandidate Candidate, IMlpTransport Transport)> _connected = Channel.CreateUnbounded<(ConnectCandidate, IMlpTransport)>();
    private readonly Lock _lock = new();
    private readonly List<Task> _attempts = [];
    private TaskCompletionSource _kick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _driver = Task.CompletedTask;
    private int _finished;
    private bool _handedOut;
    private bool _disposed;

    public MlpConnectionRace(IMlpTransportFactory factory, IReadOnlyList<ConnectCandidate> candidates, TimeSpan attemptDelay, TimeSpan attemptTimeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _factory = factory;
        _candidates = candidates;
        _attemptDelay = attemptDelay;
        _attemptTimeout = attemptTimeout;
        _time = time;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>Why the attempts that failed failed, in the order they failed.</summary>
    public List<Exception> Failures { get; } = [];

    public void Start()
    {
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
        for (var i = 0; i < _candidates.Count && !_cancel.IsCancellationRequested; i++)
        {
            TaskCompletionSource kick;
            lock (_lock)
            {
                if (_kick.Task.IsCompleted)
                    _kick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                kick = _kick;
                _attempts.Add(AttemptAsync(_candidates[i]));
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
                return;
            }
        }
    }

    private async Task AttemptAsync(ConnectCandidate candidate)
    {
        await Task.Yield();
        using var deadline = new CancellationTokenSource(_attemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token, deadline.Token);
        IMlpTransport? transport = null;
        try
        {
            transport = candidate.Address is not null && _factory is IMlpAddressTransportFactory byAddress
                ? await byAddress.ConnectAsync(candidate.Endpoint, candidate.Address, linked.Token).ConfigureAwait(false)
                : await _factory.ConnectAsync(candidate.Endpoint, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_cancel.IsCancellationRequested)
        {
            Fail(new TimeoutException($"Could not reach {candidate} within {_attemptTimeout.TotalMilliseconds:0} ms."));
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Fail(ex);
            return;
        }

        bool keep;
        lock (_lock)
        {
            keep = !_disposed && _connected.Writer.TryWrite((candidate, transport));
            Finished();
        }

        if (!keep)
            await transport.DisposeAsync().ConfigureAwait(false);
    }

    private void Fail(Exception failure)
    {
        lock (_lock)
        {
            Failures.Add(failure);
            _kick.TrySetResult();
            Finished();
        }
    }

    private void Finished()
    {
        if (++_finished == _candidates.Count)
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
        await Task.WhenAll(attempts).ConfigureAwait(false);
        _connected.Writer.TryComplete();
        while (_connected.Reader.TryRead(out var unused))
            await unused.Transport.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
