using AccessLayer.SessionGrains.Hosting;

namespace AccessLayer.SessionGrains.Mlp;

/// <summary>
/// The device grain. Its state carries the storage ETag, so two activations of one device id (the grain
/// directory is only eventually consistent) cannot both claim: the second write fails, and that claim
/// with it. It lives only while called (<see cref="BriefGrain"/>), so offline devices hold no grain memory.
/// </summary>
internal sealed class MlpDeviceGrain(
    [PersistentState("mlpdevice", FleetHostingExtensions.StorageName)] IPersistentState<MlpDeviceGrainState> state) : BriefGrain, IMlpDeviceGrain
{
    public async Task<MlpDeviceClaim> ClaimAsync(string node, string userId)
    {
        Called();
        var current = state.State;
        var previousNode = current.Node;
        var previousUser = current.UserId;
        current.Epoch++;
        current.Node = node;
        current.UserId = userId;
        await state.WriteStateAsync().ConfigureAwait(true);
        return new MlpDeviceClaim(current.Epoch, previousNode, previousUser);
    }

    public async Task<bool> ReleaseAsync(long epoch)
    {
        Called();
        if (!state.RecordExists || state.State.Epoch != epoch)
        {
            return false;
        }

        state.State.Node = null;
        await state.WriteStateAsync().ConfigureAwait(true);
        return true;
    }

    public Task<MlpDeviceOwner> GetOwnerAsync()
    {
        Called();
        return Task.FromResult(new MlpDeviceOwner(state.State.Node, state.State.Epoch));
    }
}
