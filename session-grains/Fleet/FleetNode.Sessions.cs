using System.Collections.Concurrent;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>Session claims and handovers between nodes, fenced by the session grain's epoch.</summary>
internal sealed partial class FleetNode
{
    private static readonly TimeSpan HandoverTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan FenceLifetime = TimeSpan.FromMinutes(1);

    // Client id → the epoch another node claimed the session at, after it was handed over from here.
    private readonly ConcurrentDictionary<string, (long Epoch, long At)> _fences = new(StringComparer.Ordinal);

    public async ValueTask<SessionClaim> ClaimSessionAsync(string clientId, bool cleanStart, string? owner, uint expiryInterval, WillMessage? will, CancellationToken cancellationToken = default)
    {
        // The record's script, not a grain call: Redis orders two claims of one client id on two nodes (SessionGrain).
        var claim = await Records.ClaimAsync(clientId, _nodeId, cleanStart, owner, expiryInterval, will is null ? null : FleetCodec.EncodeWill(will), _time.GetUtcNow().UtcTicks)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        if (claim.OwnedByAnotherIdentity)
        {
            return new SessionClaim { OwnedByAnotherIdentity = true };
        }

        TrackSession(clientId);

        var previous = claim.PreviousNode;
        if (previous is null || previous == _nodeId)
        {
            _metrics.Claimed(previous is null ? "new" : "local");
            return new SessionClaim { Epoch = claim.Epoch };
        }

        SessionHandover? handover = null;
        var how = "dead_node";
        if (_peers.TryGetValue(previous, out var peer))
        {
            try
            {
                // Even for a clean start: the previous node must close its connection.
                var bytes = await peer.Grain.HandOverSessionAsync(clientId, claim.Epoch).WaitAsync(HandoverTimeout, cancellationToken).ConfigureAwait(false);
                handover = bytes is null ? null : FleetCodec.DecodeHandover(bytes);
                how = "handover";
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Dying or unreachable: resume from what the grain and Redis hold.
                FleetLog.HandoverFailed(_logger, clientId, previous, ex.Message);
            }
        }

        _metrics.Claimed(how);
        FleetLog.SessionClaimed(_logger, clientId, previous, claim.Epoch, how);
        if (cleanStart)
        {
            if (_durable is not null)
            {
                await _durable.DeleteAsync(clientId, cancellationToken).ConfigureAwait(false);
            }

            await SetDurableSubscriptionsAsync(clientId, null, cancellationToken).ConfigureAwait(false);
            return new SessionClaim { Epoch = claim.Epoch, PreviousNode = previous };
        }

        handover ??= claim.Subscriptions is { } subscriptions
            ? new SessionHandover { Subscriptions = FleetCodec.DecodeSubscriptions(subscriptions) }
            : null;
        return new SessionClaim
        {
            Epoch = claim.Epoch,
            PreviousNode = previous,
            Resumed = handover ?? new SessionHandover(),
        };
    }

    public async ValueTask<IReadOnlyList<MessageDelivery>> LoadDurableAsync(string clientId, SessionHandover? held, CancellationToken cancellationToken = default)
    {
        if (_durable is null)
        {
            return [];
        }

        HashSet<Guid>? skip = null;
        if (held is not null)
        {
            foreach (var inflight in held.Inflight)
            {
                (skip ??= []).Add(inflight.Delivery.DurableId);
            }

            foreach (var queued in held.Queued)
            {
                (skip ??= []).Add(queued.DurableId);
            }
        }

        await FlushFleetDurableAsync(clientId, cancellationToken).ConfigureAwait(false);
        return await ReadDurableAsync(clientId, skip, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<MessageDelivery>> ReloadDurableAsync(string clientId, IReadOnlySet<Guid> skip, CancellationToken cancellationToken = default)
    {
        if (_durable is null)
        {
            return [];
        }

        await FlushFleetDurableAsync(clientId, cancellationToken).ConfigureAwait(false);
        return await ReadDurableAsync(clientId, skip, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A publish planned before this node's routes reached its node may still be writing to Redis: waits for every node's
    /// appends in flight, so a read after this sees them (later publishes see the routes and are forwarded here).
    /// </summary>
    private async ValueTask FlushFleetDurableAsync(string clientId, CancellationToken cancellationToken)
    {
        var flushes = new List<Task> { FlushDurableAsync() };
        foreach (var peer in _peers.Values)
        {
            flushes.Add(peer.Grain.FlushDurableAsync());
        }

        try
        {
            await Task.WhenAll(flushes).WaitAsync(FlushTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A dead or slow peer: its appends either committed (read below) or failed (no PUBACK went out).
            FleetLog.DurableFailed(_logger, clientId, "flush before resume: " + ex.Message);
        }
    }

    public bool IsFenced(string clientId, long epoch) =>
        _fences.TryGetValue(clientId, out var fence) && fence.Epoch > epoch;

    public async ValueTask SaveSubscriptionsAsync(string clientId, long epoch, IReadOnlyList<Subscription> subscriptions, CancellationToken cancellationToken = default)
    {
        if (!IsEnabled)
        {
            return;
        }

        await Grains.GetGrain<ISessionGrain>(clientId).SaveSubscriptionsAsync(epoch, FleetCodec.EncodeSubscriptions(subscriptions)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask EndSessionAsync(string clientId, long epoch, CancellationToken cancellationToken = default)
    {
        if (!IsEnabled)
        {
            return;
        }

        await Records.EndAsync(clientId, epoch).WaitAsync(cancellationToken).ConfigureAwait(false);
        UntrackSession(clientId);
        if (_durable is not null)
        {
            await _durable.DeleteAsync(clientId, cancellationToken).ConfigureAwait(false);
        }

        await SetDurableSubscriptionsAsync(clientId, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A peer claimed a session this node may hold (through its call to this node's grain).</summary>
    public async Task<byte[]?> HandOverAsync(string clientId, long epoch)
    {
        var now = Environment.TickCount64;
        _fences.AddOrUpdate(clientId, (epoch, now), (_, old) => old.Epoch > epoch ? old : (epoch, now));
        PruneFences(now);
        UntrackSession(clientId);
        var handover = await Local.HandOverSessionAsync(clientId, epoch).ConfigureAwait(false);
        return handover is null ? null : FleetCodec.EncodeHandover(handover);
    }

    private async ValueTask<IReadOnlyList<MessageDelivery>> ReadDurableAsync(string clientId, IReadOnlySet<Guid>? skip, CancellationToken cancellationToken)
    {
        var deliveries = new List<MessageDelivery>();
        foreach (var entry in await _durable!.LoadAsync(clientId, cancellationToken).ConfigureAwait(false))
        {
            if (skip is null || !skip.Contains(entry.Id))
            {
                deliveries.Add(FleetCodec.DecodeDelivery(entry.Delivery));
            }
        }

        return deliveries;
    }

    private void PruneFences(long now)
    {
        if (_fences.Count < 1024)
        {
            return;
        }

        foreach (var (clientId, fence) in _fences)
        {
            if (now - fence.At > FenceLifetime.TotalMilliseconds)
            {
                _fences.TryRemove(new KeyValuePair<string, (long, long)>(clientId, fence));
            }
        }
    }
}
