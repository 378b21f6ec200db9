using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using Orleans.Concurrency;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// The session grain: every call is one atomic Redis script on the session's record (<see cref="SessionRecords"/>), so
/// two activations of one client id (the grain directory is only eventually consistent) are ordered by Redis, not by
/// Orleans, and the activation holds nothing between calls. Since that, not single activation, is what makes a call
/// safe, it is a local stateless worker: a call runs on the calling node and registers nothing in the grain directory
/// (a directory entry per CONNECT cost a remote register and a remote unregister). It deactivates after every call, so
/// idle sessions hold no grain memory. Orleans leaves the activation timeout's timer behind every stateless-worker
/// activation, so the silo's activation timeout is short (<see cref="FleetHostingExtensions.ActivationTimeout"/>).
/// The claim at CONNECT and the end of a session are not grain calls: even local, an activation and its deactivation
/// cost about 0.07 ms of CPU, twice per connection, which held the fleet's connect rate near 0.4× a single node's; the
/// node runs those two scripts itself (FleetNode.ClaimSessionAsync, EndSessionAsync).
/// </summary>
[StatelessWorker(1)]
internal sealed class SessionGrain(SessionRecords records) : Grain, ISessionGrain
{
    private string ClientId => this.GetPrimaryKeyString();

    public Task SaveSubscriptionsAsync(long epoch, byte[] subscriptions)
    {
        DeactivateOnIdle();
        return records.SaveSubscriptionsAsync(ClientId, epoch, subscriptions);
    }

    public async Task<SessionOrphan?> FindOrphanAsync(string node)
    {
        DeactivateOnIdle();
        if (await records.FindOrphanAsync(ClientId, node).ConfigureAwait(true) is not { } orphan)
        {
            return null;
        }

        var willDelay = orphan.Will is { } will ? FleetCodec.DecodeWill(will).DelayInterval : (uint?)null;
        return new SessionOrphan(orphan.Epoch, orphan.ExpiryInterval, willDelay);
    }

    public Task<byte[]?> TakeOrphanWillAsync(long epoch)
    {
        DeactivateOnIdle();
        return records.TakeOrphanWillAsync(ClientId, epoch);
    }

    public Task<SessionOrphanEnd> EndOrphanAsync(long epoch)
    {
        DeactivateOnIdle();
        return records.EndOrphanAsync(ClientId, epoch);
    }
}
