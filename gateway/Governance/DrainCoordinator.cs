using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

internal enum DrainState
{
    Idle,
    Draining,
    Drained,
}

/// <param name="Failed">Participants (protocols) that threw during the drain and were left out of it; their clients go when the node stops.</param>
internal sealed record DrainStatus(DrainState State, string? Reason, DateTimeOffset? StartedAt, long Moved, int Remaining, string? ServerReference, IReadOnlyList<string> Failed);

/// <summary>
/// Graceful drain: the node turns unready (/readyz 503, new connections refused at accept and
/// CONNECT), then moves its clients away at <c>Drain:Rate</c> per second, in ticks of at least
/// 100 ms, across every <see cref="IDrainParticipant"/>. Sessions stay: a drain only closes
/// connections. Started by the admin API or by host shutdown; cancelling makes the node ready again.
/// A participant that throws is logged, counted (<c>gateway.loop.failures</c>, loop <c>drain</c>),
/// reported in <see cref="DrainStatus.Failed"/> and left out: the others still drain and the drain
/// still finishes, so the node is never stuck draining.
/// </summary>
internal sealed class DrainCoordinator : IDisposable
{
    private readonly IDrainParticipant[] _participants;
    private readonly GatewayReadiness _readiness;
    private readonly DrainOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<DrainCoordinator> _logger;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _cancel;
    private Task _run = Task.CompletedTask;
    private DrainState _state;
    private string? _reason;
    private DateTimeOffset? _startedAt;
    private long _moved;
    private List<IDrainParticipant> _failed = [];
    private readonly IDrainTargets? _targets;
    private string? _serverReference;

    public DrainCoordinator(IEnumerable<IDrainParticipant> participants, GatewayReadiness readiness, IOptions<DrainOptions> options, TimeProvider time, GatewayMetrics metrics, ILogger<DrainCoordinator> logger, IDrainTargets? targets = null)
    {
        _participants = [.. participants];
        _targets = targets;
        _serverReference = options.Value.ServerReference;
        _readiness = readiness;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveGauge("gateway.draining", () => _readiness.IsReady ? 0 : 1, "1 while the node drains.");
    }

    public DrainStatus Status
    {
        get
        {
            lock (_lock)
            {
                return new DrainStatus(_state, _reason, _startedAt, Interlocked.Read(ref _moved), RemainingConnections, Volatile.Read(ref _serverReference), [.. _failed.Select(p => p.Protocol)]);
            }
        }
    }

    public int RemainingConnections => _participants.Sum(p => Guarded(p, static p => p.ConnectionCount, 0));

    /// <summary>Completes when every connection has been told to go (or the drain was cancelled).</summary>
    public Task Completion
    {
        get
        {
            lock (_lock)
            {
                return _run;
            }
        }
    }

    /// <summary>Starts a drain; false when one is already running or done.</summary>
    public bool Start(string reason)
    {
        lock (_lock)
        {
            if (_state != DrainState.Idle)
            {
                return false;
            }

            _readiness.BeginDrain();
            _state = DrainState.Draining;
            _reason = reason;
            _startedAt = _time.GetUtcNow();
            Interlocked.Exchange(ref _moved, 0);
            _failed = [];
            _cancel = new CancellationTokenSource();
            GovernanceLog.DrainStarted(_logger, reason, RemainingConnections, _options.Rate, _options.ServerReference);
            _run = Task.Run(() => RunAsync(_cancel.Token));
            return true;
        }
    }

    /// <summary>Stops a drain and makes the node ready again; connections already moved stay gone. False when there was none.</summary>
    public bool Cancel()
    {
        lock (_lock)
        {
            if (_state == DrainState.Idle)
            {
                return false;
            }

            _cancel?.Cancel();
            _cancel?.Dispose();
            _cancel = null;
            _state = DrainState.Idle;
            _readiness.EndDrain();
            GovernanceLog.DrainCancelled(_logger, Interlocked.Read(ref _moved));
            return true;
        }
    }

    /// <summary>The configured server reference wins; otherwise, in a fleet, the least loaded live peer (its sessions follow the clients there).</summary>
    private async Task<DrainContext> ResolveContextAsync(CancellationToken cancellationToken)
    {
        if (_targets is null)
        {
            return new DrainContext(_options.ServerReference, _options.PublishWills);
        }

        try
        {
            var (reference, mlp) = await _targets.ResolveAsync(cancellationToken).ConfigureAwait(false);
            var chosen = _options.ServerReference ?? reference;
            Volatile.Write(ref _serverReference, chosen);
            return new DrainContext(chosen, _options.PublishWills, mlp.Count == 0 ? null : mlp);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            GovernanceLog.DrainTargetsUnknown(_logger, ex.Message);
            return new DrainContext(_options.ServerReference, _options.PublishWills);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.TicksPerSecond / _options.Rate));
        var batch = Math.Max(1, (int)(_options.Rate * tick.TotalSeconds));
        // One span for the whole drain (not one per client moved): from the start to everyone told, or the cancel.
        using var span = GatewayTelemetry.Source.StartActivity("gateway.drain");
        span?.SetTag("drain.reason", _reason);
        var context = await ResolveContextAsync(cancellationToken).ConfigureAwait(false);
        span?.SetTag("drain.server_reference", context.ServerReference);
        var started = _time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var budget = batch;
                foreach (var participant in _participants)
                {
                    if (budget == 0)
                    {
                        break;
                    }

                    var moved = Guarded(participant, p => p.MoveClients(budget, context), 0);
                    if (moved > 0)
                    {
                        budget -= moved;
                        Interlocked.Add(ref _moved, moved);
                        _metrics.DrainMoved.Add(moved, new KeyValuePair<string, object?>("protocol", participant.Protocol));
                    }
                }

                if (budget > 0 || !_participants.Any(p => Guarded(p, static p => p.HasClientsToMove, false)))
                {
                    // Fewer than a batch were left, or exactly a batch: everyone has been told.
                    lock (_lock)
                    {
                        if (!cancellationToken.IsCancellationRequested)
                        {
                            _state = DrainState.Drained;
                        }
                    }

                    GovernanceLog.DrainFinished(_logger, Interlocked.Read(ref _moved), _time.GetElapsedTime(started));
                    span?.SetTag("drain.moved", Interlocked.Read(ref _moved));
                    span?.SetTag("drain.outcome", "drained");
                    return;
                }

                await Task.Delay(tick, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            span?.SetTag("drain.moved", Interlocked.Read(ref _moved));
            span?.SetTag("drain.outcome", "cancelled");
        }
    }

    /// <summary>Asks a participant something; one that throws (now or before) answers <paramref name="fallback"/> and is reported.</summary>
    private T Guarded<T>(IDrainParticipant participant, Func<IDrainParticipant, T> ask, T fallback)
    {
        lock (_lock)
        {
            if (_failed.Contains(participant))
            {
                return fallback;
            }
        }

        try
        {
            return ask(participant);
        }
        catch (Exception ex)
        {
            lock (_lock)
            {
                if (_failed.Contains(participant))
                {
                    return fallback;
                }

                _failed.Add(participant);
            }

            LoopLog.DrainParticipantFailed(_logger, ex, participant.Protocol);
            _metrics.LoopFailed("drain");
            return fallback;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _cancel?.Cancel();
            _cancel?.Dispose();
            _cancel = null;
        }
    }
}
