using AccessLayer.SessionGrains.Hosting;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// The session grain. Its state carries the storage ETag, so two activations of one client id
/// (the grain directory is only eventually consistent) cannot both write: the second write fails
/// and that claim with it. It deactivates after every call, so idle sessions hold no grain memory.
/// </summary>
internal sealed class SessionGrain(
    [PersistentState("session", FleetHostingExtensions.StorageName)] IPersistentState<SessionGrainState> state) : Grain, ISessionGrain
{
    public async Task<SessionGrainClaim> ClaimAsync(string node, bool cleanStart, string? owner)
    {
        try
        {
            var current = state.State;
            if (state.RecordExists && current.Owner is not null && owner is not null && !string.Equals(current.Owner, owner, StringComparison.Ordinal))
            {
                return new SessionGrainClaim(0, null, OwnedByAnotherIdentity: true, null);
            }

            var previous = state.RecordExists ? current.Node : null;
            current.Epoch++;
            current.Node = node;
            current.Owner = owner;
            if (cleanStart)
            {
                current.Subscriptions = null;
            }

            await state.WriteStateAsync().ConfigureAwait(true);
            return new SessionGrainClaim(current.Epoch, previous, OwnedByAnotherIdentity: false, current.Subscriptions);
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public async Task SaveSubscriptionsAsync(long epoch, byte[] subscriptions)
    {
        try
        {
            if (state.RecordExists && state.State.Epoch == epoch)
            {
                state.State.Subscriptions = subscriptions;
                await state.WriteStateAsync().ConfigureAwait(true);
            }
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public async Task EndAsync(long epoch)
    {
        try
        {
            if (state.RecordExists && state.State.Epoch == epoch)
            {
                await state.ClearStateAsync().ConfigureAwait(true);
            }
        }
        finally
        {
            DeactivateOnIdle();
        }
    }
}
