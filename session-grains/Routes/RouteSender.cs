using System.Threading.Channels;
using AccessLayer.SessionGrains.Nodes;
using Microsoft.Extensions.Logging;

namespace AccessLayer.SessionGrains.Routes;

/// <summary>
/// Sends this node's route changes to one peer, one call at a time so they apply in order.
/// Changes queued while a call is out are merged into the next (a filter's last state wins).
/// The first call, and the first after a failure, is a snapshot of every row.
/// </summary>
internal sealed class RouteSender : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly string _localNode;
    private readonly string _peer;
    private readonly INodeGrain _grain;
    private readonly Func<RouteUpdate> _snapshot;
    private readonly Lock _routeGate;
    private readonly ILogger _logger;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, bool> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DurableSubscriptionRow> _durable = new(StringComparer.Ordinal);
    private readonly List<(long Version, TaskCompletionSource Applied)> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private bool _needsSnapshot = true;
    private long _pendingVersion;
    private long _appliedVersion;
    private Task _loop = Task.CompletedTask;

    /// <param name="routeGate">The lock under which the route table changes and changes are queued here, so a snapshot and the queue agree.</param>
    public RouteSender(string localNode, string peer, INodeGrain grain, Func<RouteUpdate> snapshot, Lock routeGate, ILogger logger)
    {
        _localNode = localNode;
        _peer = peer;
        _grain = grain;
        _snapshot = snapshot;
        _routeGate = routeGate;
        _logger = logger;
    }

    public string Peer => _peer;

    public void Start()
    {
        _loop = Task.Run(RunAsync);
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Queues a row change; call under the route gate, with the version the table gave it.</summary>
    public void QueueRow(long version, string topicFilter, bool present)
    {
        _rows[topicFilter] = present;
        _pendingVersion = version;
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Queues a durable row change; call under the route gate.</summary>
    public void QueueDurable(long version, DurableSubscriptionRow row)
    {
        _durable[row.ClientId] = row;
        _pendingVersion = version;
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Completes once the peer applied <paramref name="version"/> (or a snapshot past it).</summary>
    public Task WaitAppliedAsync(long version)
    {
        lock (_waiters)
        {
            if (Volatile.Read(ref _appliedVersion) >= version)
            {
                return Task.CompletedTask;
            }

            var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((version, applied));
            return applied.Task;
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _signal.Writer.TryComplete();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (_waiters)
        {
            foreach (var (_, applied) in _waiters)
            {
                applied.TrySetResult();
            }

            _waiters.Clear();
        }

    }

    public void Dispose() => _stop.Dispose();

    private async Task RunAsync()
    {
        while (await _signal.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
        {
            _signal.Reader.TryRead(out _);
            RouteUpdate? update;
            lock (_routeGate)
            {
                update = Take();
            }

            if (update is null)
            {
                continue;
            }

            try
            {
                await _grain.ApplyRoutesAsync(update).WaitAsync(_stop.Token).ConfigureAwait(false);
                Applied(update.Version);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                FleetLog.RouteSendFailed(_logger, _peer, ex.Message);
                lock (_routeGate)
                {
                    _needsSnapshot = true;
                }

                await Task.Delay(RetryDelay, _stop.Token).ConfigureAwait(false);
                _signal.Writer.TryWrite(true);
            }
        }
    }

    private RouteUpdate? Take()
    {
        if (_needsSnapshot)
        {
            _needsSnapshot = false;
            _rows.Clear();
            _durable.Clear();
            return _snapshot();
        }

        if (_rows.Count == 0 && _durable.Count == 0)
        {
            return null;
        }

        var added = new List<string>();
        var removed = new List<string>();
        foreach (var (filter, present) in _rows)
        {
            (present ? added : removed).Add(filter);
        }

        var update = new RouteUpdate(_localNode, _pendingVersion, IsSnapshot: false, [.. added], [.. removed], [.. _durable.Values]);
        _rows.Clear();
        _durable.Clear();
        return update;
    }

    private void Applied(long version)
    {
        lock (_waiters)
        {
            if (version > _appliedVersion)
            {
                Volatile.Write(ref _appliedVersion, version);
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Version <= version)
                {
                    _waiters[i].Applied.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
