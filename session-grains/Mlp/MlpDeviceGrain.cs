using AccessLayer.SessionGrains.Hosting;

namespace AccessLayer.SessionGrains.Mlp;

/// <summary>
/// The device grain. Its state carries the storage ETag, so two activations of one device id (the grain
/// directory is only eventually consistent) cannot both claim: the second write fails, and that claim
/// with it. It deactivates after every call, so offline devices hold no grain memory.
/// </summary>
internal sealed class MlpDeviceGrain(
    [PersistentState("mlpdevice", FleetHostingExtensions.StorageName)] IPersistentState<MlpDeviceGrainState> state) : Grain, IMlpDeviceGrain
{
    public async Task<MlpDeviceClaim> ClaimAsync(string node, string userId)
    {
        try
        {
            var current = state.State;
            var previousNode = current.Node;
            var previousUser = current.UserId;
            current.Epoch++;
            current.Node = node;
            current.UserId = userId;
            await state.WriteStateAsync().ConfigureAwait(true);
            return new MlpDeviceClaim(current.Epoch, previousNode, previousUser);
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public async Task<bool> ReleaseAsync(long epoch)
    {
        try
        {
            if (!state.RecordExists || state.State.Epoch != epoch)
            {
                return false;
            }

            state.State.Node = null;
            await state.WriteStateAsync().ConfigureAwait(true);
            return true;
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public Task<MlpDeviceOwner> GetOwnerAsync()
    {
        DeactivateOnIdle();
        return Task.FromResult(new MlpDeviceOwner(state.State.Node, state.State.Epoch));
    }
}
