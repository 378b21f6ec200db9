using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Orphans;
using AccessLayer.SessionGrains.Sessions;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// The sessions of a node that died (or left): their clients may come back to another node and resume them, and
/// meanwhile what the node would have done at their end must still happen somewhere. The node claiming a session
/// records the client id under its own id (<see cref="OrphanLedger"/>); a node seeing a peer leave marks it dead; the
/// live node with the lowest id (the reaper) finds every session the dead node still owns and schedules, from that
/// moment, its will (after its delay) and its end (after its expiry interval, at once for a clean session). Every node
/// sweeps what is due each second: a will still held by the grain is published, an ended session's grain, durable
/// queue and durable subscriptions are removed. A client that reconnects first raised the epoch and both come to nothing.
/// </summary>
internal sealed partial class FleetNode
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);
    private const int SweepBatch = 256;

    private OrphanLedger? _orphans;
    private Task _sweeper = Task.CompletedTask;

    private void StartOrphanSweeper(OrphanLedger ledger)
    {
        _orphans = ledger;
        _sweeper = Task.Run(SweepOrphansAsync, CancellationToken.None);
    }

    private void TrackSession(string clientId) => _orphans?.Track(_nodeId, clientId);

    private void UntrackSession(string clientId) => _orphans?.Untrack(_nodeId, clientId);

    private void OnPeerLeft(string node)
    {
        if (_orphans is { } ledger)
        {
            _ = MarkDeadAsync(ledger, node);
        }
    }

    private async Task MarkDeadAsync(OrphanLedger ledger, string node)
    {
        try
        {
            await ledger.MarkDeadAsync(node).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            FleetLog.OrphansFailed(_logger, node, ex.Message);
        }
    }

    private async Task SweepOrphansAsync()
    {
        using var timer = new PeriodicTimer(SweepInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    if (IsReaper())
                    {
                        await ReapDeadNodesAsync(_orphans!).ConfigureAwait(false);
                    }

                    while (await RunDueAsync(_orphans!).ConfigureAwait(false) == SweepBatch)
                    {
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Redis gone while the node stops (a fleet torn down together) fails the last sweep: that is no
                    // reason to fault the node's stop, which would end the process with an unhandled exception.
                    if (_stop.IsCancellationRequested)
                    {
                        return;
                    }

                    FleetLog.OrphansFailed(_logger, "sweep", ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The live node with the lowest id reaps (every node agrees once membership settles; two reaping at once only schedule the same entries twice).</summary>
    private bool IsReaper()
    {
        foreach (var peer in _peers.Keys)
        {
            if (string.CompareOrdinal(peer, _nodeId) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private async Task ReapDeadNodesAsync(OrphanLedger ledger)
    {
        foreach (var dead in await ledger.DeadNodesAsync().ConfigureAwait(false))
        {
            if (dead == _nodeId || _peers.ContainsKey(dead))
            {
                continue;
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var entries = new List<(string, long)>();
            var sessions = 0;
            await foreach (var clientId in ledger.SessionsOfAsync(dead).ConfigureAwait(false))
            {
                if (await Grains.GetGrain<ISessionGrain>(clientId).FindOrphanAsync(dead).ConfigureAwait(false) is not { } orphan)
                {
                    continue;
                }

                sessions++;
                if (orphan.WillDelayInterval is { } delay && delay < orphan.ExpiryInterval)
                {
                    entries.Add((OrphanLedger.WillEntry(orphan.Epoch, clientId), now + (1000L * delay)));
                }

                entries.Add((OrphanLedger.EndEntry(orphan.Epoch, clientId), now + (1000L * orphan.ExpiryInterval)));
                if (entries.Count >= SweepBatch)
                {
                    await ledger.ScheduleAsync(entries).ConfigureAwait(false);
                    entries.Clear();
                }
            }

            await ledger.ScheduleAsync(entries).ConfigureAwait(false);
            await ledger.ForgetNodeAsync(dead).ConfigureAwait(false);
            FleetLog.OrphansReaped(_logger, dead, sessions);
        }
    }

    /// <summary>Runs one batch of due entries; returns how many were taken.</summary>
    private async Task<int> RunDueAsync(OrphanLedger ledger)
    {
        var due = await ledger.TakeDueAsync(_time.GetUtcNow().ToUnixTimeMilliseconds(), SweepBatch).ConfigureAwait(false);
        foreach (var entry in due)
        {
            if (!OrphanLedger.TryParse(entry, out var isWill, out var epoch, out var clientId))
            {
                continue;
            }

            try
            {
                var grain = Grains.GetGrain<ISessionGrain>(clientId);
                byte[]? will;
                if (isWill)
                {
                    will = await grain.TakeOrphanWillAsync(epoch).ConfigureAwait(false);
                }
                else
                {
                    var end = await grain.EndOrphanAsync(epoch).ConfigureAwait(false);
                    will = end.Will;
                    if (end.Ended)
                    {
                        if (_durable is not null)
                        {
                            await _durable.DeleteAsync(clientId).ConfigureAwait(false);
                        }

                        await SetDurableSubscriptionsAsync(clientId, null).ConfigureAwait(false);
                        FleetLog.OrphanEnded(_logger, clientId);
                    }
                }

                if (will is not null)
                {
                    var message = FleetCodec.DecodeWill(will).Message;
                    FleetLog.OrphanWillPublished(_logger, clientId, message.Topic);
                    await Local.PublishWillAsync(message).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!_stop.IsCancellationRequested)
            {
                // Left undone: the session stays for its client to reclaim, as it would without a reaper.
                FleetLog.OrphansFailed(_logger, clientId, ex.Message);
            }
        }

        return due.Count;
    }
}
