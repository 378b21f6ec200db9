using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using Orleans.Concurrency;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// The session grain. Its state carries the storage ETag, so two activations of one client id (the grain
/// directory is only eventually consistent) cannot both write: the second write fails and that claim with
/// it (the caller claims again, reading the winner's state). It deactivates after every call, so the next
/// call reads the state afresh and idle sessions hold no grain memory. Since that fence, not single activation,
/// is what makes a claim safe, it is a local stateless worker: a call runs on the calling node and registers
/// nothing in the grain directory (a directory entry per CONNECT cost a remote register and a remote unregister:
/// the fleet's connect rate was 0.37× a single node's with it, 0.68–0.83× without). Orleans leaves the activation
/// timeout's timer behind every stateless-worker activation, so the silo's activation timeout is short
/// (<see cref="FleetHostingExtensions.ActivationTimeout"/>).
/// </summary>
[StatelessWorker(1)]
internal sealed class SessionGrain(
    [PersistentState("session", FleetHostingExtensions.StorageName)] IPersistentState<SessionGrainState> state,
    TimeProvider time) : Grain, ISessionGrain
{
    public async Task<SessionGrainClaim> ClaimAsync(string node, bool cleanStart, string? owner, uint expiryInterval, byte[]? will)
    {
        try
        {
            var current = state.State;
            if (state.RecordExists && current.Owner is not null && owner is not null && !string.Equals(current.Owner, owner, StringComparison.Ordinal))
            {
                return new SessionGrainClaim(0, null, OwnedByAnotherIdentity: true, null);
            }

            var previous = state.RecordExists ? current.Node : null;
            // Never below the clock (100 ns ticks): an epoch stays above every earlier one even after the record was
            // deleted (a session that ended), so nothing fenced by an old epoch can match a new session.
            current.Epoch = Math.Max(current.Epoch + 1, time.GetUtcNow().UtcTicks);
            current.Node = node;
            current.Owner = owner;
            current.ExpiryInterval = expiryInterval;
            current.Will = will;
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

    public Task<SessionOrphan?> FindOrphanAsync(string node)
    {
        DeactivateOnIdle();
        var current = state.State;
        if (!state.RecordExists || !string.Equals(current.Node, node, StringComparison.Ordinal))
        {
            return Task.FromResult<SessionOrphan?>(null);
        }

        var willDelay = current.Will is { } will ? FleetCodec.DecodeWill(will).DelayInterval : (uint?)null;
        return Task.FromResult<SessionOrphan?>(new SessionOrphan(current.Epoch, current.ExpiryInterval, willDelay));
    }

    public async Task<byte[]?> TakeOrphanWillAsync(long epoch)
    {
        try
        {
            if (!state.RecordExists || state.State.Epoch != epoch || state.State.Will is not { } will)
            {
                return null;
            }

            state.State.Will = null;
            await state.WriteStateAsync().ConfigureAwait(true);
            return will;
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public async Task<SessionOrphanEnd> EndOrphanAsync(long epoch)
    {
        try
        {
            if (!state.RecordExists || state.State.Epoch != epoch)
            {
                return new SessionOrphanEnd(false, null);
            }

            var will = state.State.Will;
            await state.ClearStateAsync().ConfigureAwait(true);
            return new SessionOrphanEnd(true, will);
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
