using AccessLayer.SessionGrains.Mlp;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>
/// MLP devices in the fleet: claims and releases through the device grain (epoch-fenced), the user grains'
/// device lists, and the node-to-node calls a push, a takeover or a Redis pull needs. The gateway decides
/// what to do with them; this part only reaches the grains and the peers.
/// </summary>
internal sealed partial class FleetNode
{
    private static readonly TimeSpan MlpCallTimeout = TimeSpan.FromSeconds(5);

    public async ValueTask<MlpDeviceClaim> ClaimMlpDeviceAsync(string deviceId, string userId, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var claim = await OnceMoreIfRejectedAsync(Grains.GetGrain<IMlpDeviceGrain>(deviceId), device => device.ClaimAsync(_nodeId, userId), cancellationToken).ConfigureAwait(false);

        if (claim.PreviousUserId is { Length: > 0 } previousUser && !string.Equals(previousUser, userId, StringComparison.Ordinal))
        {
            await UpdateUserAsync(previousUser, deviceId, user => user.RemoveAsync(deviceId), cancellationToken).ConfigureAwait(false);
        }

        if (userId.Length > 0)
        {
            await UpdateUserAsync(userId, deviceId, user => user.ConnectedAsync(deviceId, expiry), cancellationToken).ConfigureAwait(false);
        }

        return claim;
    }

    public async ValueTask<bool> ReleaseMlpDeviceAsync(string deviceId, string userId, long epoch, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var released = await OnceMoreIfRejectedAsync(Grains.GetGrain<IMlpDeviceGrain>(deviceId), device => device.ReleaseAsync(epoch), cancellationToken).ConfigureAwait(false);
        if (released && userId.Length > 0)
        {
            await UpdateUserAsync(userId, deviceId, user => user.DisconnectedAsync(deviceId, expiry), cancellationToken).ConfigureAwait(false);
        }

        return released;
    }

    /// <summary>
    /// A user grain update, tried twice: the devices of one user connecting at once call it concurrently, and a call
    /// may reach an activation that is deactivating. A failure leaves the user's list behind (logged), not the device's session.
    /// </summary>
    private async ValueTask UpdateUserAsync(string userId, string deviceId, Func<IMlpUserGrain, Task> update, CancellationToken cancellationToken)
    {
        var user = Grains.GetGrain<IMlpUserGrain>(userId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await update(user).WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (attempt == 2)
                {
                    FleetLog.MlpCallFailed(_logger, deviceId, "user " + userId, "user list update", ex.Message);
                    return;
                }
            }
        }
    }

    public async ValueTask<MlpDeviceOwner> GetMlpOwnerAsync(string deviceId, CancellationToken cancellationToken = default) =>
        await OnceMoreIfRejectedAsync(Grains.GetGrain<IMlpDeviceGrain>(deviceId), device => device.GetOwnerAsync(), cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<string>> GetMlpUserDevicesAsync(string userId, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        await OnceMoreIfRejectedAsync(Grains.GetGrain<IMlpUserGrain>(userId), user => user.GetDevicesAsync(expiry), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// A call to a device or user grain, sent once more when Orleans rejected it unrun: each of those grains deactivates
    /// after every call, and a call that reaches an activation already deactivating ("DeactivateOnIdle was called") is
    /// rejected once Orleans' own forwarding gives up. A rejected call never ran, so sending it again is safe.
    /// </summary>
    private async Task<T> OnceMoreIfRejectedAsync<TGrain, T>(TGrain grain, Func<TGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(grain).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OrleansMessageRejectionException)
        {
            return await call(grain).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<byte[]?> HandOverMlpFromAsync(string node, string deviceId, long epoch, CancellationToken cancellationToken = default)
    {
        if (!_peers.TryGetValue(node, out var peer))
        {
            return null;
        }

        try
        {
            return await peer.Grain.HandOverMlpAsync(deviceId, epoch).WaitAsync(MlpCallTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Dying or unreachable: the session resumes from what Redis holds.
            FleetLog.MlpCallFailed(_logger, deviceId, node, "handover", ex.Message);
            return null;
        }
    }

    public async ValueTask<MlpPushReply?> PushMlpToAsync(string node, string deviceId, byte[] push, bool sequenced, CancellationToken cancellationToken = default)
    {
        if (!_peers.TryGetValue(node, out var peer))
        {
            return null;
        }

        try
        {
            return await peer.Grain.PushMlpAsync(deviceId, push, sequenced).WaitAsync(MlpCallTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FleetLog.MlpCallFailed(_logger, deviceId, node, "push", ex.Message);
            return null;
        }
    }

    public async ValueTask<bool> PullMlpAtAsync(string node, string deviceId, CancellationToken cancellationToken = default)
    {
        if (!_peers.TryGetValue(node, out var peer))
        {
            return false;
        }

        try
        {
            await peer.Grain.PullMlpAsync(deviceId).WaitAsync(MlpCallTimeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FleetLog.MlpCallFailed(_logger, deviceId, node, "pull", ex.Message);
            return false;
        }
    }

    /// <summary>A peer's push for a device held here (through this node's grain).</summary>
    public Task<MlpPushReply> PushMlpHereAsync(string deviceId, byte[] push, bool sequenced) => Local.PushMlpAsync(deviceId, push, sequenced).AsTask();

    /// <summary>A peer claimed a device held here.</summary>
    public Task<byte[]?> HandOverMlpHereAsync(string deviceId, long epoch) => Local.HandOverMlpAsync(deviceId, epoch).AsTask();

    /// <summary>A peer queued pushes in Redis for a device held here.</summary>
    public Task PullMlpHereAsync(string deviceId) => Local.PullMlpAsync(deviceId).AsTask();
}
