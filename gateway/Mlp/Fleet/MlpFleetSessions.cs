using System.Collections.Concurrent;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Protocol.Mlp;
using AccessLayer.SessionGrains.Durable;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Mlp;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mlp.Fleet;

/// <summary>
/// MLP sessions in a fleet (<c>Fleet:Redis</c> set). While a device is connected its session lives in this
/// node's <see cref="InMemoryMlpSessionStore"/>, held under the device grain's epoch; while it is offline
/// the session waits in Redis (<see cref="IMlpPushQueue"/>) with the pushes that arrived since. A HELLO
/// claims the device grain, takes the session from the node that held it (which closes its connection
/// with GOAWAY SESSION_TAKEN_OVER) or from Redis, and opens it here; a closed connection saves the session
/// to Redis and releases the grain. A push goes to the node holding the device, else to Redis. A per-device
/// lock orders these on one node; it is never held across a call to another node, so nodes cannot
/// deadlock each other. Alone (<see cref="IsEnabled"/> false) none of it runs.
/// </summary>
internal sealed class MlpFleetSessions
{
    private static readonly TimeSpan FleetReadyWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FenceLifetime = TimeSpan.FromMinutes(1);

    private readonly IFleet _fleet;
    private readonly IMlpPushQueue? _queue;
    private readonly InMemoryMlpSessionStore? _store;
    private readonly MlpConnectionRegistry _connections;
    private readonly MlpMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _expiry;
    private readonly long _maxDeviceBytes;

    // Device → the epoch this node holds its session at.
    private readonly ConcurrentDictionary<string, long> _epochs = new(StringComparer.Ordinal);

    // Device → the newest epoch another node claimed it at after this node held it (and when).
    private readonly ConcurrentDictionary<string, (long Epoch, long At)> _fences = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public MlpFleetSessions(
        IFleet fleet,
        IMlpSessionStore store,
        MlpConnectionRegistry connections,
        MlpMetrics metrics,
        IOptions<MlpOptions> options,
        ILogger<MlpFleetSessions> logger,
        IMlpPushQueue? queue = null)
    {
        _fleet = fleet;
        _queue = queue;
        _store = store as InMemoryMlpSessionStore;
        _connections = connections;
        _metrics = metrics;
        _logger = logger;
        _expiry = options.Value.PushExpiry;
        _maxDeviceBytes = options.Value.MaxQueuedPushBytes;

        // A replaced session store keeps its own state: the fleet cannot move sessions it cannot take out.
        IsEnabled = fleet.IsEnabled && queue is not null && _store is not null;
    }

    /// <summary>This node's id in the fleet (the log scope of its connections carries it).</summary>
    public string NodeId => _fleet.NodeId;

    public bool IsEnabled { get; }

    private IMlpPushQueue Queue => _queue!;

    private InMemoryMlpSessionStore Store => _store!;

    /// <summary>
    /// Opens the device's session for a HELLO on this node: claims the device, brings its session here from
    /// the node that held it or from Redis, and opens it. Throws <see cref="MlpProtocolException"/>
    /// SESSION_TAKEN_OVER when a newer connection elsewhere claimed the device meanwhile (what was taken goes
    /// back to Redis for that one) or won a simultaneous claim, OVERLOADED when the fleet cannot be reached.
    /// </summary>
    public async ValueTask<(MlpSessionOpenResult Opened, long Epoch)> OpenAsync(string deviceId, string userId, string? resumeSessionId, ulong lastProcessedSequence, CancellationToken cancellationToken)
    {
        MlpDeviceClaim claim;
        MlpSessionSnapshot? handed = null;
        try
        {
            await _fleet.Ready.WaitAsync(FleetReadyWait, cancellationToken).ConfigureAwait(false);
            claim = await _fleet.ClaimMlpDeviceAsync(deviceId, userId, _expiry, cancellationToken).ConfigureAwait(false);
            if (claim.PreviousNode is { } previous && previous != _fleet.NodeId
                && await _fleet.HandOverMlpFromAsync(previous, deviceId, claim.Epoch, cancellationToken).ConfigureAwait(false) is { } bytes)
            {
                handed = DecodeSession(deviceId, bytes);
            }
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Two activations of the device grain claimed at once; the other one's write won (the ETag fence).
            throw new MlpProtocolException(MlpErrorCode.SessionTakenOver, "The device connected at the same time on another connection.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "claim", ex.Message);
            throw new MlpProtocolException(MlpErrorCode.Overloaded, "The fleet could not open the session; retry later.");
        }

        var slot = Lock(deviceId);
        await slot.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        MlpSessionOpenResult? opened = null;
        try
        {
            if (!IsFenced(deviceId, claim.Epoch))
            {
                // Held from here, before Redis is read: a push that finds the device held waits for this lock, and one
                // that found it not yet held went to Redis first and is taken below. (Read before the hold, a push
                // appended in between stayed in Redis until the device's next connection: its pull found no holder.)
                _epochs[deviceId] = claim.Epoch;
                try
                {
                    var queued = await TakeQueuedAsync(deviceId, cancellationToken).ConfigureAwait(false);
                    var dropped = Store.Import(deviceId, handed, []);
                    if (!queued.IsEmpty)
                        dropped += Store.Import(deviceId, DecodeSession(deviceId, queued.Session), DecodePushes(deviceId, queued.Pushes));
                    CountDropped(dropped);
                    opened = await Store.OpenAsync(deviceId, userId, resumeSessionId, lastProcessedSequence, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    _epochs.TryRemove(new KeyValuePair<string, long>(deviceId, claim.Epoch));
                    throw;
                }
            }
        }
        finally
        {
            slot.Release();
        }

        if (opened is null)
        {
            MlpLog.FleetClaimLost(_logger, deviceId, claim.Epoch);
            await GiveBackAsync(deviceId, handed).ConfigureAwait(false);
            throw new MlpProtocolException(MlpErrorCode.SessionTakenOver, "The device connected again on another node.");
        }

        return (opened, claim.Epoch);
    }

    /// <summary>
    /// Whatever the device's last node saved and what arrived while it was offline. If Redis fails the connection still
    /// opens; those pushes stay there until the device's next connection.
    /// </summary>
    private async ValueTask<MlpQueuedSession> TakeQueuedAsync(string deviceId, CancellationToken cancellationToken)
    {
        try
        {
            return await Queue.TakeAsync(deviceId, cancellationToken).ConfigureAwait(false);
        }
        catch (DurableQueueUnavailableException ex)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "take", ex.Message);
            return new MlpQueuedSession(null, []);
        }
    }

    /// <summary>Whether this node still holds the device at <paramref name="epoch"/> (false once another node or a newer connection here took it).</summary>
    public bool Holds(string deviceId, long epoch) => _epochs.TryGetValue(deviceId, out var held) && held == epoch;

    /// <summary>
    /// A connection that held the device at <paramref name="epoch"/> closed: unless the session moved on, it
    /// goes to Redis and the device grain records the device offline. Never throws.
    /// </summary>
    public async Task ReleaseAsync(string deviceId, string userId, long epoch)
    {
        if (!Holds(deviceId, epoch))
            return;
        var slot = Lock(deviceId);
        await slot.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_epochs.TryRemove(new KeyValuePair<string, long>(deviceId, epoch)))
                return;
            if (Store.Export(deviceId) is { } snapshot && (snapshot.SessionId is not null || snapshot.Unacked.Count > 0 || snapshot.Pending.Count > 0))
            {
                try
                {
                    // Under the lock: a peer's handover waits for it, so the peer finds the session in Redis.
                    await Queue.SaveSessionAsync(deviceId, MlpFleetCodec.EncodeSession(snapshot)).ConfigureAwait(false);
                }
                catch (DurableQueueUnavailableException ex)
                {
                    // Redis is away: the session stays in this node's memory, where a reconnect here finds it.
                    MlpLog.FleetCallFailed(_logger, deviceId, "save session", ex.Message);
                    Store.Import(deviceId, snapshot, []);
                }
            }
        }
        finally
        {
            slot.Release();
        }

        try
        {
            if (!await _fleet.ReleaseMlpDeviceAsync(deviceId, userId, epoch, _expiry).ConfigureAwait(false))
            {
                // A newer connection claimed the device while its session was on its way to Redis: its node takes it now.
                await PullAtOwnerAsync(deviceId, null, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "release", ex.Message);
        }
    }

    /// <summary>
    /// A push from the API on this node: delivered to the node holding the device, else queued in Redis.
    /// Returns the store's outcome and whether the device is connected. Throws when the fleet cannot be reached.
    /// </summary>
    public async ValueTask<(MlpEnqueueOutcome Outcome, bool Online)> PushAsync(string deviceId, MlpPushMessage message, bool sequenced, CancellationToken cancellationToken)
    {
        if (sequenced && message.Size > _maxDeviceBytes)
            return (MlpEnqueueOutcome.Rejected, false);
        var owner = await _fleet.GetMlpOwnerAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (owner.Node is { } node)
        {
            var reply = node == _fleet.NodeId
                ? await PushHereAsync(deviceId, message, sequenced).ConfigureAwait(false)
                : await _fleet.PushMlpToAsync(node, deviceId, MlpFleetCodec.EncodePush(message), sequenced, cancellationToken).ConfigureAwait(false);
            if (reply is { Held: true })
                return ((MlpEnqueueOutcome)reply.Outcome, reply.Online);
        }

        if (!sequenced)
            return (MlpEnqueueOutcome.Queued, false);
        var dropped = await Queue.AppendAsync(deviceId, MlpFleetCodec.EncodePush(message), cancellationToken).ConfigureAwait(false);

        // A connection may have claimed the device while the push was on its way to Redis, after its node took the queue.
        await PullAtOwnerAsync(deviceId, owner, cancellationToken).ConfigureAwait(false);
        return (dropped > 0 ? MlpEnqueueOutcome.QueuedDroppedOldest : MlpEnqueueOutcome.Queued, false);
    }

    /// <summary>The devices of a user, fleet-wide.</summary>
    public ValueTask<IReadOnlyList<string>> GetUserDevicesAsync(string userId, CancellationToken cancellationToken) =>
        _fleet.GetMlpUserDevicesAsync(userId, _expiry, cancellationToken);

    /// <summary>A push for a device held here (from this node's API or a peer's).</summary>
    public async ValueTask<MlpPushReply> PushHereAsync(string deviceId, MlpPushMessage message, bool sequenced)
    {
        if (!_epochs.ContainsKey(deviceId))
            return new MlpPushReply(Held: false, Online: false, 0);
        if (!sequenced)
            return new MlpPushReply(Held: true, _connections.TrySendUnsequenced(deviceId, message), 0);

        MlpEnqueueOutcome outcome;
        var slot = Lock(deviceId);
        await slot.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_epochs.ContainsKey(deviceId))
                return new MlpPushReply(Held: false, Online: false, 0);
            outcome = await Store.EnqueueAsync(deviceId, message).ConfigureAwait(false);
        }
        finally
        {
            slot.Release();
        }

        var online = outcome is MlpEnqueueOutcome.Queued or MlpEnqueueOutcome.QueuedDroppedOldest && _connections.NotifyPushes(deviceId);
        return new MlpPushReply(Held: true, online, (int)outcome);
    }

    /// <summary>Another node claimed the device at <paramref name="epoch"/>: its connection here closes and its session leaves (encoded), or null.</summary>
    public async ValueTask<byte[]?> HandOverHereAsync(string deviceId, long epoch)
    {
        var now = Environment.TickCount64;
        _fences.AddOrUpdate(deviceId, (epoch, now), (_, old) => old.Epoch > epoch ? old : (epoch, now));
        PruneFences(now);
        MlpSessionSnapshot? snapshot;
        var slot = Lock(deviceId);
        await slot.WaitAsync().ConfigureAwait(false);
        try
        {
            _epochs.TryRemove(deviceId, out _);
            snapshot = Store.Export(deviceId);
        }
        finally
        {
            slot.Release();
        }

        if (_connections.TryGetDevice(deviceId, out var connection))
        {
            MlpLog.FleetTakenOver(_logger, deviceId, epoch);
            connection.RequestClose(MlpErrorCode.SessionTakenOver, "The device connected to another node.");
        }

        return snapshot is null ? null : MlpFleetCodec.EncodeSession(snapshot);
    }

    /// <summary>Pushes wait in Redis for a device held here: they join its session.</summary>
    public async ValueTask PullHereAsync(string deviceId)
    {
        if (!_epochs.ContainsKey(deviceId))
            return;
        var slot = Lock(deviceId);
        await slot.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_epochs.ContainsKey(deviceId))
                return;
            var queued = await Queue.TakeAsync(deviceId).ConfigureAwait(false);
            if (queued.IsEmpty)
                return;
            CountDropped(Store.Import(deviceId, DecodeSession(deviceId, queued.Session), DecodePushes(deviceId, queued.Pushes)));
        }
        catch (DurableQueueUnavailableException ex)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "pull", ex.Message);
            return;
        }
        finally
        {
            slot.Release();
        }

        _connections.NotifyPushes(deviceId);
    }

    /// <summary>Tells the node now holding the device (when it changed since <paramref name="seen"/>) to take what waits in Redis.</summary>
    private async ValueTask PullAtOwnerAsync(string deviceId, MlpDeviceOwner? seen, CancellationToken cancellationToken)
    {
        var owner = await _fleet.GetMlpOwnerAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (owner.Node is not { } node || (seen is not null && seen.Node == node && seen.Epoch == owner.Epoch))
            return;
        if (node == _fleet.NodeId)
            await PullHereAsync(deviceId).ConfigureAwait(false);
        else
            await _fleet.PullMlpAtAsync(node, deviceId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>This HELLO lost the device to a newer connection elsewhere: what it took goes back to Redis, and the winner's node takes it.</summary>
    private async Task GiveBackAsync(string deviceId, MlpSessionSnapshot? handed)
    {
        // What waits in Redis was not taken (the take comes after the fence check): only the handed session goes back.
        var pushes = new List<byte[]>();
        if (handed is not null)
            pushes.AddRange(handed.AllPushes.Select(MlpFleetCodec.EncodePush));
        if (pushes.Count == 0)
            return;
        try
        {
            await Queue.PrependAsync(deviceId, pushes).ConfigureAwait(false);
            await PullAtOwnerAsync(deviceId, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "give back", ex.Message);
        }
    }

    private bool IsFenced(string deviceId, long epoch) => _fences.TryGetValue(deviceId, out var fence) && fence.Epoch > epoch;

    private void PruneFences(long now)
    {
        if (_fences.Count < 1024)
            return;
        foreach (var (deviceId, fence) in _fences)
        {
            if (now - fence.At > FenceLifetime.TotalMilliseconds)
                _fences.TryRemove(new KeyValuePair<string, (long, long)>(deviceId, fence));
        }
    }

    private SemaphoreSlim Lock(string deviceId) => _locks[(StringComparer.Ordinal.GetHashCode(deviceId) & int.MaxValue) % _locks.Length];

    private void CountDropped(int dropped)
    {
        if (dropped > 0)
            _metrics.PushesDropped.Add(dropped, MlpMetrics.Tag("reason", "queue_full"));
    }

    private MlpSessionSnapshot? DecodeSession(string deviceId, byte[]? bytes)
    {
        if (bytes is null)
            return null;
        try
        {
            return MlpFleetCodec.DecodeSession(bytes);
        }
        catch (InvalidDataException ex)
        {
            MlpLog.FleetCallFailed(_logger, deviceId, "decode session", ex.Message);
            return null;
        }
    }

    private List<MlpPushMessage> DecodePushes(string deviceId, IReadOnlyList<byte[]> encoded)
    {
        var pushes = new List<MlpPushMessage>(encoded.Count);
        foreach (var bytes in encoded)
        {
            try
            {
                pushes.Add(MlpFleetCodec.DecodePush(bytes));
            }
            catch (InvalidDataException ex)
            {
                MlpLog.FleetCallFailed(_logger, deviceId, "decode push", ex.Message);
            }
        }

        return pushes;
    }
}
