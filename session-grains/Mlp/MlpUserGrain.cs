using AccessLayer.SessionGrains.Hosting;

namespace AccessLayer.SessionGrains.Mlp;

/// <summary>The user grain: a small map device → offline since, pruned on every call; an emptied user deletes its record.</summary>
internal sealed class MlpUserGrain(
    [PersistentState("mlpuser", FleetHostingExtensions.StorageName)] IPersistentState<MlpUserGrainState> state,
    TimeProvider time) : BriefGrain, IMlpUserGrain
{
    /// <summary>Devices listed per user at most; a connect past it forgets the longest-offline (then the oldest-listed) device.</summary>
    public const int MaxDevices = 256;

    public Task ConnectedAsync(string deviceId, TimeSpan expiry) => UpdateAsync(deviceId, null, expiry);

    public Task DisconnectedAsync(string deviceId, TimeSpan expiry) => UpdateAsync(deviceId, time.GetUtcNow(), expiry);

    public async Task RemoveAsync(string deviceId)
    {
        Called();
        if (state.State.Devices.Remove(deviceId))
        {
            await SaveAsync().ConfigureAwait(true);
        }
    }

    public async Task<string[]> GetDevicesAsync(TimeSpan expiry)
    {
        Called();
        if (Prune(expiry) > 0)
        {
            await SaveAsync().ConfigureAwait(true);
        }

        return [.. state.State.Devices.Keys];
    }

    private async Task UpdateAsync(string deviceId, DateTimeOffset? offlineSince, TimeSpan expiry)
    {
        Called();
        var devices = state.State.Devices;
        devices[deviceId] = offlineSince;
        Prune(expiry);
        while (devices.Count > MaxDevices)
        {
            // Connected devices (null) sort last: the longest-offline one goes.
            var oldest = devices.Where(d => d.Key != deviceId).OrderBy(d => d.Value ?? DateTimeOffset.MaxValue).First().Key;
            devices.Remove(oldest);
        }

        await SaveAsync().ConfigureAwait(true);
    }

    private int Prune(TimeSpan expiry)
    {
        var cutoff = time.GetUtcNow() - expiry;
        var expired = state.State.Devices.Where(d => d.Value is { } since && since <= cutoff).Select(d => d.Key).ToList();
        foreach (var deviceId in expired)
        {
            state.State.Devices.Remove(deviceId);
        }

        return expired.Count;
    }

    private Task SaveAsync() => state.State.Devices.Count == 0
        ? (state.RecordExists ? state.ClearStateAsync() : Task.CompletedTask)
        : state.WriteStateAsync();
}
