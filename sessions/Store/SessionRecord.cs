using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Routing;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// One session in the in-memory store. Guarded by locking the record itself; a record that
/// has been <see cref="Removed"/> from the store's map is dead and callers look again.
/// </summary>
internal sealed class SessionRecord(string clientId)
{
    public string ClientId { get; } = clientId;

    /// <summary>False between the map insert and the first open (then nobody owns it yet).</summary>
    public bool Initialized { get; set; }

    public bool Removed { get; set; }

    public long Epoch { get; set; }

    public bool Connected { get; set; }

    public string? NodeId { get; set; }

    public uint ExpiryInterval { get; set; }

    public DateTimeOffset? DisconnectedAt { get; set; }

    /// <summary>When a disconnected session ends; <see cref="DateTimeOffset.MaxValue"/> while connected or never.</summary>
    public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

    public WillMessage? Will { get; set; }

    /// <summary>When the pending will is due after a disconnect (never later than <see cref="ExpiresAt"/>).</summary>
    public DateTimeOffset WillDueAt { get; set; } = DateTimeOffset.MaxValue;

    /// <summary>Bumped whenever the scheduled deadline changes, so stale entries in the deadline heap are ignored.</summary>
    public long DeadlineVersion { get; set; }

    public Dictionary<string, SubscriptionOptions>? Subscriptions { get; set; }

    public Dictionary<ushort, (long Sequence, InflightMessage Message)>? Inflight { get; set; }

    public long InflightSequence { get; set; }

    public ushort LastPacketId { get; set; }

    public HashSet<ushort>? Incoming { get; set; }

    public OfflineQueue? Queue { get; set; }

    /// <summary>Discards everything the session persisted (Clean Start, expiry, removal).</summary>
    public void ResetState()
    {
        Subscriptions = null;
        Inflight = null;
        InflightSequence = 0;
        LastPacketId = 0;
        Incoming = null;
        Queue = null;
        Will = null;
        WillDueAt = DateTimeOffset.MaxValue;
    }
}
