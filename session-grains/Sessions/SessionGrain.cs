using AccessLayer.SessionGrains.Hosting;
using Orleans.Concurrency;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// The session grain. Its state carries the storage ETag, so two activations of one client id cannot
/// both write: the second write fails and that claim with it (the caller claims again, reading the
/// winner's state). Since that fence, not single activation, is what makes a claim safe, it is a local
/// stateless worker: a call runs on the calling node and registers nothing in the grain directory (a
/// directory entry per CONNECT cost two remote calls, to register and to unregister). It deactivates
/// after every call, so the next call reads the state afresh and idle sessions hold no grain memory.
/// </summary>
[StatelessWorker(1)]
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
